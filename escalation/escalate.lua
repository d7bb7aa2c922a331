-- escalate: run an incident's next escalation step now.
--
-- KEYS[1]  the incident's hash     KEYS[2]  the shard's due set
-- KEYS[3]  the incident's timeline
-- Header (besides base, now, req, actor): id, message (optional note)
--
-- The step falls due now and any claim in flight loses its fence, so the
-- step still runs exactly once, by whoever claims it next.
--
-- Returns {result, status}: "done", "notfound", "conflict" (not
-- triggered), "nopolicy" or "exhausted" (nothing left to run). A repeat
-- of a request answers "done" and writes nothing.

local inc = KEYS[1]
local f = redis.call('HMGET', inc, 'id', 'status', 'policy', 'esc_next', 'reqs')
local id, status, policy, nxt, reqs = f[1], f[2], f[3], f[4], f[5]
if not id then return {'notfound', ''} end
if replayed(reqs) then return {'done', status} end
if status ~= ST_triggered then return {'conflict', status} end
if not policy or policy == '' then return {'nopolicy', status} end
if not nxt then return {'exhausted', status} end

redis.call('ZADD', KEYS[2], now, id)
redis.call('HSET', inc, 'esc_due', now, 'reqs', remembered(reqs))
redis.call('HDEL', inc, 'claim')
addEntry(EV_escalated, nil, H.message)
flushTimeline(id)
return {'done', status}
