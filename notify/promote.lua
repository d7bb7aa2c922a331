-- promote: put the waiting pages whose time has come back into the outbox
-- stream, oldest due first, where the consumer group hands them out like
-- any page. Waiting is not holding: a page waits in Redis, not in a
-- replica, so any replica may take it when it is due.
--
-- KEYS[1]  the shard's waiting set (K.later(): page key by due time, ms)
-- KEYS[2]  the waiting pages       (K.laterpages(): page key → state "\n" page)
-- KEYS[3]  the shard's outbox stream
-- Header (besides base, now): max, how many to move at most.
--
-- Returns {moved}.

local later, pages, stream = KEYS[1], KEYS[2], KEYS[3]
local keys = redis.call('ZRANGEBYSCORE', later, '-inf', now, 'LIMIT', 0, H.max)
for _, key in ipairs(keys) do
  local v = redis.call('HGET', pages, key)
  if v then
    local cut = string.find(v, '\n', 1, true)
    if cut then
      redis.call('XADD', stream, '*', 'page', string.sub(v, cut + 1), 'state', string.sub(v, 1, cut - 1))
    else
      redis.call('XADD', stream, '*', 'page', v)
    end
  end
  redis.call('ZREM', later, key)
  redis.call('HDEL', pages, key)
end
return {#keys}
