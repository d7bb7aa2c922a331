-- commit: record what the checker did with the heartbeats it claimed.
--
-- KEYS[1]  the due set
-- Header (besides now, req):
--   beat  the key of a heartbeat's hash, less the name
-- ARGV[2…]: per heartbeat, 4 values: name, token (from claim), action,
--   missed (as claim returned them). Actions:
--   fire     the firing alert is committed; the heartbeat leaves the set
--            until a ping, or falls due now if a ping came meanwhile
--   resolve  the resolved alert is committed: "open" is cleared and the
--            heartbeat waits for its deadline again (one already passed
--            is a new miss, claimed on the next pass)
--   drop     the heartbeat is no longer configured: out of the set, its
--            hash kept (a heartbeat configured again resolves an open
--            alert with its next ping)
--
-- Fencing: a heartbeat commits only while its claim is the token given.
-- A ping leaves the claim alone; a claim that ran out and was taken
-- again has a new token, so a late commit of the first holder is refused.
--
-- Returns, per heartbeat, "committed" or "refused".

local due = KEYS[1]
local out = {}
for i = 2, #ARGV, 4 do
  local name, token, action, missed = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = H.beat .. name
  local f = redis.call('HMGET', key, 'claim', 'deadline', 'open')
  if f[1] ~= token then
    out[#out + 1] = 'refused'
  else
    redis.call('HDEL', key, 'claim', 'claim_until')
    local deadline = tonumber(f[2]) or 0
    if action == 'fire' then
      redis.call('HSET', key, 'fired', missed)
      if deadline > now then
        redis.call('ZADD', due, now, name)
      else
        redis.call('ZREM', due, name)
      end
    elseif action == 'resolve' then
      if f[3] == missed then redis.call('HDEL', key, 'open', 'fired') end
      redis.call('ZADD', due, deadline, name)
    else
      redis.call('ZREM', due, name)
    end
    out[#out + 1] = 'committed'
  end
end
return out
