-- claim: take the due escalation steps of one shard, with a lease.
--
-- KEYS[1]  the shard's due set (K.due())
-- KEYS[2]  the shard's flapping incidents (K.flapdue(): id by when they
--          will have been stable for their flap window)
-- Header (besides base, now, req, actor):
--   lease_ms  how long the claim holds: the step's score becomes now + lease,
--             so nobody else takes it until then
--   limit     the most steps to claim
--
-- A claimed incident's hash gets claim = req .. ':' .. n, the token its
-- commit must show. A due entry with nothing to run (the incident is gone,
-- acknowledged, resolved, or its policy done) is dropped.
--
-- First, flapping that has ended: an incident whose alerts have been
-- stable for the flap window stops flapping, and resolves if nothing
-- fires and its route auto-resolves (a flapping incident is kept open);
-- otherwise its held step runs below, paging again.
--
-- Returns, per claimed incident, CLAIM_WIDTH values:
--   id, token, epoch, next, policy, title, service, severity,
--   alert_count, triggered_at, due (when the step fell due, Unix ms),
--   route, held (why its pages were held back last time, or ''),
--   flapping ('1' or ''), flap_until (ms, or ''), flap_paged ('1' or '')

local due, flapdue = KEYS[1], KEYS[2]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', flapdue, '-inf', now, 'LIMIT', 0, H.limit)) do
  redis.call('ZREM', flapdue, id)
  local inc = K.incident(id)
  local f = redis.call('HMGET', inc, 'flapping', 'flap_until', 'firing', 'flap_resolve', 'status', 'triggered_at', 'ghash')
  if f[1] == '1' and tonumber(f[2]) and tonumber(f[2]) > now then
    redis.call('ZADD', flapdue, f[2], id) -- it changed again meanwhile
  elseif f[1] == '1' then
    redis.call('HDEL', inc, 'flapping', 'flap_until', 'flap_paged', 'flap_resolve')
    if (tonumber(f[3]) or 0) <= 0 and f[4] == '1' and f[5] ~= ST_resolved then
      setStatus(id, f[5], ST_resolved, tonumber(f[6]))
      redis.call('HSET', inc, 'resolved_at', now)
      local group = K.group(f[7])
      if redis.call('HGET', group, 'open') == id then redis.call('HDEL', group, 'open') end
      stopEscalation(id)
      addEntry(EV_flapping_ended, nil, 'stable again and nothing fires: the incident resolves')
      addEntry(EV_resolved, nil, 'all alerts resolved, and stable for the flap window')
    else
      addEntry(EV_flapping_ended, nil, 'stable again: paging resumes')
    end
    flushTimeline(id)
  end
end

local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, H.limit)
local out = {}
for i, id in ipairs(ids) do
  local inc = K.incident(id)
  local f = redis.call('HMGET', inc, 'status', 'esc_epoch', 'esc_next', 'policy',
    'title', 'service', 'severity', 'alert_count', 'triggered_at', 'esc_due', 'route', 'esc_held',
    'flapping', 'flap_until', 'flap_paged')
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
    for j = 4, 15 do out[#out + 1] = f[j] or '' end
  end
end
return out
