-- forget: drop the consumers of the group that hold no entry and have not
-- been heard from for a while: replicas that stopped. Every replica start
-- makes a consumer of its own, so without this the group would name every
-- replica that ever ran. A live replica is heard from at every pass, and
-- one dropped by mistake is made again by its next read; a consumer that
-- holds entries is kept whatever its age, so no entry loses its owner.
--
-- KEYS[1]  the shard's outbox stream
-- Header (besides base, now, req, actor):
--   group     the consumer group
--   idle_ms   how long a consumer must have been silent
--
-- Returns {forgotten}: how many consumers were dropped.

local forgotten = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], H.group)) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  -- The embedded Redis of --dev reports no idle time: nothing is dropped.
  if f.pending == 0 and f.idle and f.idle >= H.idle_ms then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], H.group, f.name)
    forgotten = forgotten + 1
  end
end
return {forgotten}
