-- claim: take the heartbeats that are due, with a lease.
--
-- KEYS[1]  the due set
-- Header (besides now, req):
--   beat      the key of a heartbeat's hash, less the name
--   lease_ms  how long a claim holds: the heartbeat's score becomes
--             now + lease, so nobody else takes it until then
--   limit     the most heartbeats to claim
--   only      (optional) claim this heartbeat only, if it is due
--
-- What a due heartbeat needs follows from its hash:
--   no "open", deadline passed   fire: a ping is missed. "open" := the
--                                deadline before the alert is sent, so
--                                that from now on a ping knows an alert
--                                may be open and asks for its resolve
--   "open", deadline passed      fire again (the last fire's holder died,
--                                or pings stopped again before the
--                                resolve): the same alert, a repeat
--   "open", deadline ahead       resolve: a ping came after the miss
--   no "open", deadline ahead    nothing: back in the set at its deadline
-- A name without a hash is dropped from the set.
--
-- A claimed heartbeat's hash gets claim = req .. ':' .. n, the token its
-- commit must show, and claim_until, the lease's end.
--
-- Returns, per claimed heartbeat, 4 values: name, token, action ("fire"
-- or "resolve"), missed (the deadline that was missed: the alert's start).

local due = KEYS[1]
local names
if H.only then
  names = {}
  local score = redis.call('ZSCORE', due, H.only)
  if score and tonumber(score) <= now then names[1] = H.only end
else
  names = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, H.limit)
end
local out = {}
for i, name in ipairs(names) do
  local key = H.beat .. name
  local f = redis.call('HMGET', key, 'deadline', 'open')
  local deadline = tonumber(f[1])
  local action, missed = nil, f[2]
  if not deadline then
    redis.call('ZREM', due, name)
  elseif f[2] then
    action = (deadline > now) and 'resolve' or 'fire'
  elseif deadline <= now then
    action, missed = 'fire', f[1]
    redis.call('HSET', key, 'open', f[1])
  else
    redis.call('ZADD', due, deadline, name)
  end
  if action then
    local token = H.req .. ':' .. i
    redis.call('HSET', key, 'claim', token, 'claim_until', now + H.lease_ms)
    redis.call('ZADD', due, now + H.lease_ms, name)
    out[#out + 1] = name
    out[#out + 1] = token
    out[#out + 1] = action
    out[#out + 1] = missed
  end
end
return out
