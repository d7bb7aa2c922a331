-- transition: acknowledge, resolve or annotate one incident, atomically.
--
-- KEYS[1]  the incident's hash (K.incident(id))
-- Header (besides base, now, req, actor):
--   action   "acknowledge", "resolve" or "note"
--   message  the note's text (optional for the others)
--
-- Returns {result, status}: result is "done", "noop" (already in that
-- state: transitions are idempotent), "conflict" (acknowledging a resolved
-- incident) or "notfound". A repeat of a request (same req) answers "done"
-- again and writes nothing: a note resent after a timeout appears once.

local inc = KEYS[1]
local function answer(result, status)
  return {result, status or ''}
end

local fields = redis.call('HMGET', inc, 'id', 'status', 'triggered_at', 'ghash', 'reqs')
local id, status, triggeredAt, ghash, reqs = fields[1], fields[2], fields[3], fields[4], fields[5]
if not id then return answer('notfound') end
if replayed(reqs) then return answer('done', status) end

local function done(typ, to)
  addEntry(typ, nil, H.message)
  flushTimeline(id)
  redis.call('HSET', inc, 'updated_at', now, 'reqs', remembered(reqs))
  return answer('done', to)
end

if H.action == 'acknowledge' then
  if status == ST_acknowledged then return answer('noop', status) end
  if status == ST_resolved then return answer('conflict', status) end
  setStatus(id, status, ST_acknowledged, triggeredAt)
  redis.call('HSET', inc, 'acknowledged_at', now)
  stopEscalation(id)
  return done(EV_acknowledged, ST_acknowledged)
elseif H.action == 'resolve' then
  if status == ST_resolved then return answer('noop', status) end
  setStatus(id, status, ST_resolved, triggeredAt)
  redis.call('HSET', inc, 'resolved_at', now)
  stopEscalation(id)
  local group = K.group(ghash)
  if redis.call('HGET', group, 'open') == id then
    redis.call('HDEL', group, 'open')
  end
  return done(EV_resolved, ST_resolved)
elseif H.action == 'note' then
  return done(EV_note, status)
end
return redis.error_reply('transition: unknown action ' .. tostring(H.action))
