-- transition.lua: acknowledge, resolve or annotate one incident, atomically.
--
-- KEYS[1]  B..inc:<id>     the incident's hash
-- ARGV[1]  B               shard key base (the incident's hash tag)
-- ARGV[2]  now, Unix ms
-- ARGV[3]  action: "acknowledge", "resolve" or "note"
-- ARGV[4]  actor
-- ARGV[5]  message (the note's text; optional for the others)
--
-- Returns {result, status}: result is "done", "noop" (already in that
-- state: transitions are idempotent), "conflict" (acknowledging a resolved
-- incident) or "notfound".

local inc = KEYS[1]
local B, now, action, actor, message = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]

local fields = redis.call('HMGET', inc, 'id', 'status', 'triggered_at', 'ghash')
local id, status, triggeredAt, ghash = fields[1], fields[2], fields[3], fields[4]
if not id then
  return {'notfound', ''}
end

local function entry(typ)
  local e = {at = now, type = typ, actor = actor}
  if message ~= '' then e.message = message end
  redis.call('RPUSH', inc .. ':timeline', cjson.encode(e))
  redis.call('HSET', inc, 'updated_at', now)
end

local function setStatus(to)
  redis.call('ZREM', B .. 'status:' .. status, id)
  redis.call('ZADD', B .. 'status:' .. to, triggeredAt, id)
  redis.call('HSET', inc, 'status', to)
end

if action == 'acknowledge' then
  if status == 'acknowledged' then return {'noop', status} end
  if status == 'resolved' then return {'conflict', status} end
  setStatus('acknowledged')
  redis.call('HSET', inc, 'acknowledged_at', now)
  entry('acknowledged')
  return {'done', 'acknowledged'}
elseif action == 'resolve' then
  if status == 'resolved' then return {'noop', status} end
  setStatus('resolved')
  redis.call('HSET', inc, 'resolved_at', now)
  local group = B .. 'group:' .. ghash
  if redis.call('HGET', group, 'open') == id then
    redis.call('HDEL', group, 'open')
  end
  entry('resolved')
  return {'done', 'resolved'}
elseif action == 'note' then
  entry('note')
  return {'done', status}
end
return redis.error_reply('transition: unknown action ' .. tostring(action))
