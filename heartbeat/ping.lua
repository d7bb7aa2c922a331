-- ping: record one ping of a heartbeat.
--
-- KEYS[1]  the heartbeat's hash (beat:<name>)
-- KEYS[2]  the due set
-- Header (besides now, req):
--   name      the heartbeat
--   deadline  when the next ping is due at the latest: now + interval +
--             grace (Unix ms)
--
-- A ping moves the deadline, nothing else: it never calls the pipeline,
-- so a repeated ping is harmless and cheap. When a miss's alert is open
-- ("open" set), the heartbeat falls due now, so that a checker resolves
-- it; when a checker holds the heartbeat (a live claim), no earlier than
-- the claim's end, so that no second checker works on it meanwhile (the
-- holder's commit reschedules it; a dead holder's lease runs out).
--
-- Returns {state, due}: state "ok" (healthy) or "recovering" (an open
-- alert is to be resolved), due the heartbeat's score in the due set.

local f = redis.call('HMGET', KEYS[1], 'open', 'claim', 'claim_until')
redis.call('HSET', KEYS[1], 'last_ping', now, 'deadline', H.deadline)
local state, at = 'ok', H.deadline
if f[1] then state, at = 'recovering', now end
if f[2] and f[3] and tonumber(f[3]) > at then at = tonumber(f[3]) end
redis.call('ZADD', KEYS[2], at, H.name)
return {state, at}
