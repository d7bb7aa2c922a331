-- commit: record a batch of escalation steps of one shard, each exactly once.
--
-- KEYS[1]  the shard's due set     KEYS[2]  the shard's outbox
-- ARGV[2…]: one record per step, COMMIT_WIDTH values and then its data:
--   id       the incident
--   token    the claim token the claim script gave
--   epoch    the escalation epoch that was claimed
--   expect   the position that was claimed ("repeat|step|turn")
--   next     the position after it ('' when the policy is done)
--   next_ms  when next falls due
--   paged    the position that paged ('' when none did)
--   held     why the step's pages are held back ('' when they are not):
--            then next is the claimed position again, due when the hold
--            may end, and pages is 0 — or, once for a flapping incident,
--            its one flapping page to the step's people (flap_paged)
--   entries  how many timeline entries follow (JSON, built by Go)
--   pages    how many pages follow them (notify.Page JSON, one outbox entry each)
--
-- The fencing check, per step: the claim must still be this token, and
-- epoch and position what were claimed. A replica that paused past its
-- lease, an incident acknowledged, resolved or reopened meanwhile, or a
-- step someone escalated by hand: that step writes nothing. One call
-- commits a whole claimed batch: a script call costs more than the
-- commands in it.
--
-- Returns one result per record, in order: "committed", "stale" (fenced
-- off) or "stopped" (the incident is no longer triggered).

local COMMIT_WIDTH = 10
local due, outbox = KEYS[1], KEYS[2]
local results = {}
local i = 2
while i <= #ARGV do
  local id, token, epoch, expect = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local nxt, nextMs, paged, held = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local entries, pages = tonumber(ARGV[i + 8]), tonumber(ARGV[i + 9])
  local data = i + COMMIT_WIDTH
  i = data + entries + pages

  local inc = K.incident(id)
  local f = redis.call('HMGET', inc, 'claim', 'esc_epoch', 'esc_next', 'status')
  if f[1] ~= token or f[2] ~= epoch or f[3] ~= expect then
    results[#results + 1] = 'stale'
  elseif f[4] ~= ST_triggered then
    stopEscalation(id)
    results[#results + 1] = 'stopped'
  else
    appendPages(K.timeline(id), outbox, data, entries, pages)
    if nxt ~= '' then
      redis.call('ZADD', due, nextMs, id)
      redis.call('HSET', inc, 'esc_next', nxt, 'esc_due', nextMs)
    else
      redis.call('ZREM', due, id)
      redis.call('HDEL', inc, 'esc_next', 'esc_due')
    end
    if paged ~= '' then redis.call('HSET', inc, 'esc_last', paged) end
    if held ~= '' then
      redis.call('HSET', inc, 'esc_held', held)
      -- A held step that pages sends its one notice of the hold (a
      -- flapping incident's page): once.
      if pages > 0 then redis.call('HSET', inc, 'flap_paged', '1') end
    else
      redis.call('HDEL', inc, 'esc_held')
    end
    redis.call('HDEL', inc, 'claim')
    results[#results + 1] = 'committed'
  end
end
return results
