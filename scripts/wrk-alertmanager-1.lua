-- wrk script: single-alert Alertmanager webhooks, every alert distinct, 20 groups.
-- wrk -t1 -c4 -d10s --latency -s scripts/wrk-alertmanager-1.lua http://127.0.0.1:18089
-- (integration "alertmanager", token "dev": the dev config)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer dev"
counter = 0
request = function()
  counter = counter + 1
  local fp = string.format("%016x", counter)
  local body = '{"version":"4","groupKey":"{}:{alertname=\\"W' .. (counter % 20) .. '\\"}","status":"firing","receiver":"x","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"W' .. (counter % 20) .. '","instance":"i-' .. counter .. '","severity":"warning"},"annotations":{},"startsAt":"2026-11-25T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"' .. fp .. '"}]}'
  return wrk.format(nil, "/hooks/alertmanager", nil, body)
end
