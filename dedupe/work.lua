-- work: record what a person did on an incident besides its lifecycle (a
-- role handed over, a status update, the impact window, the postmortem,
-- a follow-up), atomically: one timeline entry (JSON built by Go), the
-- current state in one field of the incident's hash, and the pages it
-- sends (a status update's).
--
-- KEYS[1]  the incident's hash    KEYS[2]  its timeline
-- KEYS[3]  the shard's outbox
-- Header (besides base, now, req, actor):
--   field          the hash field holding the state this changes ("" for
--                  none: a status update only appends)
--   value          its new value ("" deletes it)
--   check, prev    check true: the field must hold prev ("" for absent),
--                  the state Go merged a partial change into
--   want           "new": the field must not exist (a follow-up added);
--                  "existing": it must (a follow-up changed); "" either
--   resolved_only  true: only a resolved incident takes the change
--   pages          how many pages follow the entry
-- ARGV[2]  the timeline entry      ARGV[3 …]  pages (notify.Page JSON)
--
-- Returns {result, status}: "done"; "noop" (the field holds value
-- already: nothing is written); "stale" (check failed: read again and
-- retry); "notfound"; "missing" / "exists" (want failed); "conflict"
-- (resolved_only, and the incident is not resolved). A repeat of a
-- request (same req) answers "done" and writes nothing.

local inc = KEYS[1]
local f = redis.call('HMGET', inc, 'id', 'status', 'reqs')
local id, status, reqs = f[1], f[2], f[3]
if not id then return {'notfound', ''} end
if replayed(reqs) then return {'done', status} end
if H.resolved_only and status ~= ST_resolved then return {'conflict', status} end

if H.field ~= '' then
  local cur = redis.call('HGET', inc, H.field)
  if H.want == 'new' and cur then return {'exists', status} end
  if H.want == 'existing' and not cur then return {'missing', status} end
  if H.check and (cur or '') ~= H.prev then return {'stale', status} end
  if (cur or '') == H.value then return {'noop', status} end
  if H.value == '' then
    redis.call('HDEL', inc, H.field)
  else
    redis.call('HSET', inc, H.field, H.value)
  end
end

appendPages(KEYS[2], KEYS[3], 2, 1, H.pages)
redis.call('HSET', inc, 'updated_at', now, 'reqs', remembered(reqs))
return {'done', status}
