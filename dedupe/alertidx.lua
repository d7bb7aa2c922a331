-- alertidx: record which incident of each route holds each alert, for
-- senders that name only an alert (PagerDuty's acknowledge). With
-- `continue`, one alert is in an incident on every route it takes; each
-- field keeps one id per route: {"<route>":"<id>",…} (an older plain id
-- is read as the incident of an unknown route and kept).
--
-- KEYS[1]  the shard's alert index (K.alertidx())
-- Header (besides base, now, req, actor): route, id.
-- ARGV[2…] the alert keys of this shard.
--
-- Returns {n}: how many fields it wrote.

local idx = KEYS[1]
local MAX_ROUTES = 32
local written = 0
for i = 2, #ARGV do
  local key = ARGV[i]
  local raw = redis.call('HGET', idx, key)
  local m = {}
  if raw then
    if string.sub(raw, 1, 1) == '{' then
      m = cjson.decode(raw)
    else
      m['?'] = raw
    end
  end
  if m[H.route] ~= H.id then
    m[H.route] = H.id
    local n = 0
    for _ in pairs(m) do n = n + 1 end
    if n <= MAX_ROUTES then
      redis.call('HSET', idx, key, cjson.encode(m))
      written = written + 1
    end
  end
end
return {written}
