-- transition: acknowledge, resolve or annotate one incident, atomically.
--
-- KEYS[1]  the incident's hash (K.incident(id))
-- Header (besides base, now, req, actor):
--   action   "acknowledge", "resolve" or "note"
--   message  the note's text (optional for the others)
--   only     true for a conditional change (a signed link, an SMS reply),
--            with
--     epoch        when > 0, the esc_epoch the incident must be in
--     nonce        when not "", may be used once: K.link(nonce) marks it
--     nonce_ttl_ms how long the mark is kept
--
-- Returns {result, status}: result is "done", "noop" (already in that
-- state: transitions are idempotent), "conflict" (acknowledging a resolved
-- incident) or "notfound". A repeat of a request (same req) answers "done"
-- again and writes nothing: a note resent after a timeout appears once.
--
-- A conditional change also answers "superseded" (another epoch: the
-- incident was reopened since its page), "used" (the nonce's mark exists)
-- or "conflict" when the incident is not in the state the page was sent
-- for: a conditional acknowledge acts only on a triggered incident, a
-- conditional resolve on a triggered or acknowledged one, so neither is
-- ever a silent no-op. The nonce is marked in the same script as the
-- change, so two uses racing cannot both act.

local inc = KEYS[1]
local function answer(result, status)
  return {result, status or ''}
end

local fields = redis.call('HMGET', inc, 'id', 'status', 'triggered_at', 'ghash', 'reqs', 'esc_epoch')
local id, status, triggeredAt, ghash, reqs, epoch = fields[1], fields[2], fields[3], fields[4], fields[5], fields[6]
if not id then return answer('notfound') end
if replayed(reqs) then return answer('done', status) end

if H.only then
  if (H.epoch or 0) > 0 and tonumber(epoch or '0') ~= H.epoch then
    return answer('superseded', status)
  end
  local mark = nil
  if H.nonce and H.nonce ~= '' then
    mark = K.link(H.nonce)
    if redis.call('EXISTS', mark) == 1 then return answer('used', status) end
  end
  if (H.action == 'acknowledge' and status ~= ST_triggered) or (H.action == 'resolve' and status == ST_resolved) then
    return answer('conflict', status)
  end
  if mark then
    redis.call('SET', mark, id, 'PX', string.format('%d', math.max(H.nonce_ttl_ms or 0, 1000)))
  end
end

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
