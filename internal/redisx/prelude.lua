-- prelude.lua: the start of every alertgate script (see script.go).
--
-- ARGV[1] is the script's header, one JSON object of named arguments, so a
-- script can gain a field without renumbering the others. Every header has
--   base   the shard's key base, hash tag included ("alertgate:v1:{s3}:")
--   now    the time of the change, Unix ms (passed in: one clock, testable)
--   req    the request id, a few random characters (see the request memory)
--   actor  who acts, for the timeline
-- ARGV[2…] carry bulk data (a batch's alerts) in a layout the script names.
--
-- Scripts return an array of strings and numbers, each script's comment
-- says in what order; Go reads it with redisx.Reply.

local H = cjson.decode(ARGV[1])
local B = H.base
local now = H.now

-- Generated from the Go definitions (script.go): K (key builders: K.seq(),
-- K.incident(id), …), SEV (severity ranks), and the incident statuses and
-- timeline event types as locals: ST_triggered, EV_alert_added, ….
--@@generated@@

-- CHUNK bounds the values one unpack spreads onto the Lua stack. Real
-- Redis takes about 8000; the embedded Redis of --dev (gopher-lua) has a
-- registry of 5120 slots for everything, so stay far below both.
local CHUNK = 1000

-- callMany runs cmd key v1 v2 … over a long list, CHUNK values a call. The
-- chunk is even, so field/value pairs never split.
local function callMany(cmd, key, list)
  for i = 1, #list, CHUNK do
    redis.call(cmd, key, unpack(list, i, math.min(i + CHUNK - 1, #list)))
  end
end

-- hmgetMany returns the values of fields of one hash, in order (false for
-- a missing field), however many fields there are.
local function hmgetMany(key, fields)
  local out = {}
  for from = 1, #fields, CHUNK do
    local to = math.min(from + CHUNK - 1, #fields)
    local got = redis.call('HMGET', key, unpack(fields, from, to))
    for i = from, to do out[i] = got[i - from + 1] end
  end
  return out
end

-- Timeline entries are collected and pushed once at the end (one RPUSH
-- for a whole batch), built by concatenation around cjson-escaped strings,
-- which is cheaper than encoding a table per entry. Go decodes them as
-- alertgate.TimelineEntry with "at" in Unix ms.
local timelineEntries = {}
local timelineHead = nil
local function addEntry(typ, alert, message)
  if not timelineHead then
    timelineHead = '{"at":' .. string.format('%d', now) .. ',"actor":' .. cjson.encode(H.actor or '') .. ',"type":"'
  end
  local e = timelineHead .. typ .. '"'
  if alert then e = e .. ',"alert":' .. cjson.encode(alert) end
  if message and message ~= '' then e = e .. ',"message":' .. cjson.encode(message) end
  timelineEntries[#timelineEntries + 1] = e .. '}'
end

local function flushTimeline(id)
  if #timelineEntries > 0 then
    callMany('RPUSH', K.timeline(id), timelineEntries)
    timelineEntries = {}
  end
end

-- sendNotices queues the resolution notice of every contact a page of the
-- incident reached: the delivery record keeps one per contact
-- (notify/record.lua), so whoever was paged hears that it is over, once.
-- The entry's "at" is the resolve time, which the notice says.
local function sendNotices(id)
  local notified = K.notified(id)
  local all = redis.call('HGETALL', notified)
  for i = 2, #all, 2 do
    redis.call('XADD', K.outbox(), '*', 'page', all[i], 'at', now)
  end
  if #all > 0 then redis.call('DEL', notified) end
end

-- setStatus moves an incident between statuses and keeps the per-status
-- indexes (scored by triggered_at) in step with the incident's hash. A
-- resolve sends the resolution notices, whichever script resolves.
local function setStatus(id, from, to, triggeredAt)
  redis.call('ZREM', K.status(from), id)
  redis.call('ZADD', K.status(to), triggeredAt, id)
  redis.call('HSET', K.incident(id), 'status', to, 'updated_at', now)
  if to == ST_resolved then sendNotices(id) end
end

-- The request memory makes a repeated call a no-op for scripts that have
-- nothing else to recognise a repeat by (ingest marks each alert it
-- changes instead). A client that resends a command after a timeout, or a
-- worker that retries, sends the same H.req again, and Redis may run both
-- copies. Such a script keeps the last REQS request ids in a "reqs" field
-- of the hash it changes, as "\n" id "\n" id … newest first (ids hold no
-- control characters: Go checks them), reads it with its other reads of
-- the hash, asks replayed(raw), and writes remembered(raw) with its other
-- writes.
local REQS = 4
local function replayed(raw)
  return H.req ~= nil and raw and string.find(raw .. '\n', '\n' .. H.req .. '\n', 1, true) ~= nil
end

local function remembered(raw)
  local kept = raw or ''
  -- keep the newest REQS-1 ids: cut before the REQS-th "\n"
  local at, n = 0, 0
  while n < REQS do
    at = string.find(kept, '\n', at + 1, true)
    if not at then break end
    n = n + 1
  end
  if at then kept = string.sub(kept, 1, at - 1) end
  return '\n' .. (H.req or '') .. kept
end

-- Escalation state lives in the incident's hash (see the escalation
-- package): policy, esc_epoch (counts starts, so a page of an earlier run
-- has another idempotency key), esc_next (the position that runs next,
-- "repeat|step|turn", 0-based), esc_due (when), esc_last (the last step
-- that ran), claim (the token of the replica running the step now) and
-- esc_held (why the next step's pages are held back, when they are).
-- The shard's due set holds the incident while a step waits.
--
-- startEscalation (re)starts the policy at its first step, due at `at`;
-- an incident without a policy is recorded as such. Ingest calls it in the
-- same script that opens or reopens the incident, so a page can never be
-- lost between "opened" and "scheduled".
local function startEscalation(id, policy, at)
  local inc = K.incident(id)
  if not policy or policy == '' then
    redis.call('HDEL', inc, 'policy', 'esc_next', 'esc_due', 'esc_last', 'claim')
    redis.call('ZREM', K.due(), id)
    addEntry(EV_no_escalation_policy, nil, 'no escalation policy: nobody is paged')
    return
  end
  redis.call('HINCRBY', inc, 'esc_epoch', 1)
  redis.call('HSET', inc, 'policy', policy, 'esc_next', '0|0|0', 'esc_due', at)
  redis.call('HDEL', inc, 'esc_last', 'claim', 'esc_held')
  redis.call('ZADD', K.due(), at, id)
end

-- stopEscalation ends the policy (acknowledge, resolve); a claim in flight
-- loses its fence, so its commit is refused.
local function stopEscalation(id)
  redis.call('ZREM', K.due(), id)
  redis.call('HDEL', K.incident(id), 'esc_next', 'esc_due', 'claim', 'esc_held')
end

-- appendPages writes what an escalation script was given: from ARGV[from],
-- `entries` timeline entries (JSON built by Go), then `pages` pages
-- (notify.Page JSON), each an outbox entry. The outbox is never trimmed:
-- the delivery loop deletes what it recorded.
local function appendPages(timeline, outbox, from, entries, pages)
  local list = {}
  for i = from, from + entries - 1 do list[#list + 1] = ARGV[i] end
  if #list > 0 then callMany('RPUSH', timeline, list) end
  for i = from + entries, from + entries + pages - 1 do
    redis.call('XADD', outbox, '*', 'page', ARGV[i])
  end
end
