-- claim: take the due escalation steps of one shard, with a lease.
--
-- KEYS[1]  the shard's due set (K.due())
-- Header (besides base, now, req, actor):
--   lease_ms  how long the claim holds: the step's score becomes now + lease,
--             so nobody else takes it until then
--   limit     the most steps to claim
--
-- A claimed incident's hash gets claim = req .. ':' .. n, the token its
-- commit must show. A due entry with nothing to run (the incident is gone,
-- acknowledged, resolved, or its policy done) is dropped.
--
-- Returns, per claimed incident, CLAIM_WIDTH values:
--   id, token, epoch, next, policy, title, service, severity,
--   alert_count, triggered_at, due (when the step fell due, Unix ms),
--   route, held (why its pages were held back last time, or '')

local due = KEYS[1]
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, H.limit)
local out = {}
for i, id in ipairs(ids) do
  local inc = K.incident(id)
  local f = redis.call('HMGET', inc, 'status', 'esc_epoch', 'esc_next', 'policy',
    'title', 'service', 'severity', 'alert_count', 'triggered_at', 'esc_due', 'route', 'esc_held')
  if not f[1] or not f[3] or f[1] ~= ST_triggered then
    redis.call('ZREM', due, id)
  else
    local token = H.req .. ':' .. i
    redis.call('ZADD', due, now + H.lease_ms, id)
    redis.call('HSET', inc, 'claim', token)
    out[#out + 1] = id
    out[#out + 1] = token
    out[#out + 1] = f[2] or '0'
    out[#out + 1] = f[3]
    for j = 4, 12 do out[#out + 1] = f[j] or '' end
  end
end
return out
