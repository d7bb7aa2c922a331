-- reassign: page named people now, outside the policy's steps.
--
-- KEYS[1]  the incident's hash     KEYS[2]  the shard's outbox
-- KEYS[3]  the incident's timeline
-- Header (besides base, now, req, actor): entries (how many follow)
-- ARGV[2 … 1+entries]  timeline entries (JSON, built by Go)
-- ARGV[2+entries …]    pages (notify.Page JSON)
--
-- The policy goes on as it was: reassigning pages more people, it does
-- not stop anybody's escalation.
--
-- Returns {result, status}: "done", "notfound" or "conflict" (resolved).
-- A repeat of a request answers "done" and writes nothing.

local inc = KEYS[1]
local f = redis.call('HMGET', inc, 'id', 'status', 'reqs')
local id, status, reqs = f[1], f[2], f[3]
if not id then return {'notfound', ''} end
if replayed(reqs) then return {'done', status} end
if status == ST_resolved then return {'conflict', status} end

appendPages(KEYS[3], KEYS[2], 2, H.entries, #ARGV - 1 - H.entries)
redis.call('HSET', inc, 'reqs', remembered(reqs))
return {'done', status}
