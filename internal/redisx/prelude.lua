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
-- Scripts return one JSON object, decoded by name in Go.

local H = cjson.decode(ARGV[1])
local B = H.base
local now = H.now

-- Generated from the Go definitions (script.go): K (key builders: K.seq,
-- K.incident(id), …), SEV (severity ranks), ST (incident statuses) and EV
-- (timeline event types).
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

-- setStatus moves an incident between statuses and keeps the per-status
-- indexes (scored by triggered_at) in step with the incident's hash.
local function setStatus(id, from, to, triggeredAt)
  redis.call('ZREM', K.status(from), id)
  redis.call('ZADD', K.status(to), triggeredAt, id)
  redis.call('HSET', K.incident(id), 'status', to, 'updated_at', now)
end

-- The request memory makes a repeated call a no-op. A client that resends
-- a command after a timeout, or a worker that retries, sends the same
-- H.req again; Redis may run both copies. Each script keeps the last few
-- request ids (with the result to answer again, when it has one) in the
-- "reqs" field of the hash it changes: replayed returns the remembered
-- result ('' when none was kept), remember records one.
local REQS = 4
local function replayed(hash)
  if not H.req then return nil end
  local raw = redis.call('HGET', hash, 'reqs')
  if not raw then return nil end
  for _, r in ipairs(cjson.decode(raw)) do
    if r[1] == H.req then return r[2] end
  end
  return nil
end

local function remember(hash, result)
  if not H.req then return end
  local raw = redis.call('HGET', hash, 'reqs')
  local list = {{H.req, result or ''}}
  if raw then
    for _, r in ipairs(cjson.decode(raw)) do
      if #list < REQS then list[#list + 1] = r end
    end
  end
  redis.call('HSET', hash, 'reqs', cjson.encode(list))
end
