-- declare: open an incident a person declared (no alert), atomically, as
-- ingest opens one: the same id allocation, the same indexes, status
-- triggered, and the escalation policy started in the same script.
--
-- KEYS[1]  the shard's incident id counter (K.seq())
-- KEYS[2]  the shard's index of every incident (K.incidents())
-- KEYS[3]  the request's mark (K.link('declare.' .. req)): the id of the
--          incident this request declared, kept for mark_ttl_ms
-- Header (besides base, now, req, actor):
--   shard          the new incident's id is seq * SHARDS + shard
--   title, service, severity
--   commander      who holds the commander role ('' for nobody)
--   policy         the escalation policy to start ('' for none)
--   group_wait_ms  when the policy's first step falls due, after now
--   quiet          true: no "nobody is paged" entry without a policy (the
--                  caller pages a rotation itself)
--   mark_ttl_ms    how long a repeat of the request is recognised
--   entries        how many timeline entries follow (JSON built by Go),
--                  recorded after the declared entry
-- ARGV[2 … 1+entries]  those entries
--
-- A declared incident has no group: route, group_key and ghash are "",
-- so no alert ever joins it, and resolving it touches no group.
--
-- Returns {id, outcome}: outcome "declared", or "repeat" (this request
-- declared the incident id already: nothing is written).

local prev = redis.call('GET', KEYS[3])
if prev then return {prev, 'repeat'} end

local seq = redis.call('INCR', KEYS[1])
local id = string.format('%d', seq * SHARDS + H.shard)
local inc = K.incident(id)
redis.call('HSET', inc,
  'id', id, 'title', H.title, 'service', H.service, 'severity', H.severity,
  'status', ST_triggered, 'route', '', 'group_key', '', 'ghash', '',
  'triggered_at', now, 'updated_at', now, 'alert_count', 0, 'firing', 0, 'reopened', 0,
  'declared', '1')
if H.commander ~= '' then redis.call('HSET', inc, 'role:commander', H.commander) end
redis.call('ZADD', KEYS[2], now, id)
redis.call('ZADD', K.status(ST_triggered), now, id)
addEntry(EV_declared, nil, H.title)
if H.policy ~= '' then
  startEscalation(id, H.policy, now + H.group_wait_ms)
elseif not H.quiet then
  startEscalation(id, '', now)
end
flushTimeline(id)
appendPages(K.timeline(id), K.outbox(), 2, H.entries, 0)
redis.call('SET', KEYS[3], id, 'PX', string.format('%d', math.max(H.mark_ttl_ms, 1000)))
return {id, 'declared'}
