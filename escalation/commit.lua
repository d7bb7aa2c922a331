-- commit: record one escalation step, exactly once.
--
-- KEYS[1]  the incident's hash     KEYS[2]  the shard's due set
-- KEYS[3]  the shard's outbox      KEYS[4]  the incident's timeline
-- Header (besides base, now, req, actor):
--   id       the incident
--   token    the claim token the claim script gave
--   epoch    the escalation epoch that was claimed
--   expect   the position that was claimed ("repeat|step|turn")
--   next     the position after it ('' when the policy is done)
--   next_ms  when next falls due
--   paged    the position that paged ('' when none did)
--   entries  how many timeline entries follow the header
-- ARGV[2 … 1+entries]  timeline entries (JSON, built by Go)
-- ARGV[2+entries …]    pages (notify.Page JSON), one outbox entry each
--
-- The fencing check: the claim must still be this token, and epoch and
-- position what were claimed. A replica that paused past its lease, an
-- incident acknowledged, resolved or reopened meanwhile, or a step someone
-- escalated by hand: the commit writes nothing.
--
-- Returns {result}: "committed", "stale" (fenced off) or "stopped" (the
-- incident is no longer triggered).

local inc = KEYS[1]
local f = redis.call('HMGET', inc, 'claim', 'esc_epoch', 'esc_next', 'status')
if f[1] ~= H.token or f[2] ~= H.epoch or f[3] ~= H.expect then
  return {'stale'}
end
if f[4] ~= ST_triggered then
  stopEscalation(H.id)
  return {'stopped'}
end

appendPages(KEYS[4], KEYS[3], H.entries)

if H.next ~= '' then
  redis.call('ZADD', KEYS[2], H.next_ms, H.id)
  redis.call('HSET', inc, 'esc_next', H.next, 'esc_due', H.next_ms)
else
  redis.call('ZREM', KEYS[2], H.id)
  redis.call('HDEL', inc, 'esc_next', 'esc_due')
end
if H.paged ~= '' then redis.call('HSET', inc, 'esc_last', H.paged) end
redis.call('HDEL', inc, 'claim')
return {'committed'}
