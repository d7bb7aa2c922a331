-- ingest.lua: apply one batch of alerts of one group, atomically.
--
-- All keys live under one hash tag (the shard of the group); incident keys
-- are derived from B and the incident id, inside the same tag.
--
-- KEYS[1]  B..group:<ghash>     the group's hash (open, last)
-- KEYS[2]  B..seq               incident id counter of the shard
-- KEYS[3]  B..incidents         zset of every incident by triggered_at
-- ARGV[1]  B                    shard key base, e.g. "alertgate:v1:{s3}:"
-- ARGV[2]  now, Unix ms         (passed in: one clock, and testable)
-- ARGV[3]  shard number         incident id = seq * shards + shard
-- ARGV[4]  shards
-- ARGV[5]  route name
-- ARGV[6]  group key
-- ARGV[7]  service for a new incident
-- ARGV[8]  auto-resolve: "1" or "0"
-- ARGV[9]  reopen window, ms (0: never reopen)
-- ARGV[10] actor, e.g. "integration:alertmanager"
-- ARGV[11] alerts the sender truncated (0 if none)
-- ARGV[12] title for a new incident
-- ARGV[13] group hash
-- then per alert, 5 values: key, status, severity, digest, json
--
-- Returns {incident id or "", outcome, new, duplicates, changed, stale, status}
-- outcome: "opened", "reopened", "updated", "resolved" (auto-resolved by
-- this batch), "stale" (nothing open and nothing firing).

local B = ARGV[1]
local now = tonumber(ARGV[2])
local group = KEYS[1]
local autoResolve = ARGV[8] == "1"
local reopenWindow = tonumber(ARGV[9])
local actor = ARGV[10]
local truncated = tonumber(ARGV[11])

local sevRank = {critical = 4, error = 3, warning = 2, info = 1}

-- Writes are collected and sent once at the end (one HSET per hash, one
-- RPUSH for the timeline): a batch of a hundred alerts then costs a handful
-- of Redis calls instead of several hundred. Timeline entries are built by
-- concatenation around cjson-escaped strings, cheaper than encoding tables.
local timeline = {}
local entryHead = nil
local function entry(typ, alert, message)
  if not entryHead then
    entryHead = '{"at":' .. string.format('%d', now) .. ',"actor":' .. cjson.encode(actor) .. ',"type":"'
  end
  local e = entryHead .. typ .. '"'
  if alert then e = e .. ',"alert":' .. cjson.encode(alert) end
  if message then e = e .. ',"message":' .. cjson.encode(message) end
  timeline[#timeline + 1] = e .. '}'
end

-- call runs a command whose trailing arguments come from a list, in chunks
-- small enough for Lua's unpack (about 8000 values). The chunk is even, so
-- field/value pairs never split.
local function call(cmd, key, list)
  local chunk = 7000
  for i = 1, #list, chunk do
    redis.call(cmd, key, unpack(list, i, math.min(i + chunk - 1, #list)))
  end
end

local function setStatus(id, from, to, at)
  redis.call('ZREM', B .. 'status:' .. from, id)
  redis.call('ZADD', B .. 'status:' .. to, at, id)
  redis.call('HSET', B .. 'inc:' .. id, 'status', to, 'updated_at', now)
end

local first = 14
local n = (#ARGV - first + 1) / 5
local anyFiring = false
for i = 0, n - 1 do
  if ARGV[first + i * 5 + 1] == 'firing' then anyFiring = true end
end

local id = redis.call('HGET', group, 'open')
local outcome = 'updated'
local isOpen = true

if not id then
  if not anyFiring then
    -- Only resolutions, and no open incident: they belong to the last one,
    -- if any; it stays resolved.
    id = redis.call('HGET', group, 'last')
    if not id then
      return {'', 'stale', 0, 0, 0, n, ''}
    end
    isOpen = false
    outcome = 'stale'
  else
    local last = redis.call('HGET', group, 'last')
    local resolvedAt = nil
    if last then
      resolvedAt = tonumber(redis.call('HGET', B .. 'inc:' .. last, 'resolved_at'))
    end
    if last and reopenWindow > 0 and resolvedAt and now - resolvedAt <= reopenWindow then
      id = last
      local inc = B .. 'inc:' .. id
      local triggeredAt = tonumber(redis.call('HGET', inc, 'triggered_at'))
      setStatus(id, 'resolved', 'triggered', triggeredAt)
      redis.call('HDEL', inc, 'resolved_at', 'acknowledged_at')
      redis.call('HINCRBY', inc, 'reopened', 1)
      entry('reopened', nil, nil)
      outcome = 'reopened'
    else
      local seq = redis.call('INCR', KEYS[2])
      id = tostring(seq * tonumber(ARGV[4]) + tonumber(ARGV[3]))
      redis.call('HSET', B .. 'inc:' .. id,
        'id', id, 'title', ARGV[12], 'service', ARGV[7], 'severity', 'info',
        'status', 'triggered', 'route', ARGV[5], 'group_key', ARGV[6],
        'ghash', ARGV[13], 'triggered_at', now, 'updated_at', now,
        'alert_count', 0, 'firing', 0, 'reopened', 0)
      redis.call('ZADD', KEYS[3], now, id)
      redis.call('ZADD', B .. 'status:triggered', now, id)
      entry('triggered', nil, ARGV[12])
      outcome = 'opened'
    end
    redis.call('HSET', group, 'open', id, 'last', id)
  end
end

local inc = B .. 'inc:' .. id
local alertsKey = inc .. ':alerts'
local metaKey = inc .. ':ameta'
local newCount, dups, changed, stale = 0, 0, 0, 0
local firingDelta, countDelta = 0, 0
local maxSev = 0
local resolvedSome = false

local keys = {}
for i = 0, n - 1 do keys[i + 1] = ARGV[first + i * 5] end
local metas = {}
for from = 1, n, 7000 do
  local to = math.min(from + 6999, n)
  local got = redis.call('HMGET', metaKey, unpack(keys, from, to))
  for i = from, to do
    if got[i - from + 1] then metas[keys[i]] = got[i - from + 1] end
  end
end
local metaWrites, alertWrites = {}, {}
local written = {} -- key → index in metaWrites, so a key twice in a batch is written once

local function putMeta(key, value)
  local at = written[key]
  if at then
    metaWrites[at] = value
  else
    metaWrites[#metaWrites + 1] = key
    metaWrites[#metaWrites + 1] = value
    written[key] = #metaWrites
  end
  metas[key] = value
end

for i = 0, n - 1 do
  local o = first + i * 5
  local key, status, sev, digest, json = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local meta = metas[key]
  if not meta then
    if status == 'firing' or isOpen then
      alertWrites[#alertWrites + 1] = key
      alertWrites[#alertWrites + 1] = json
      putMeta(key, status .. '|' .. now .. '|' .. now .. '|1|' .. digest)
      countDelta = countDelta + 1
      newCount = newCount + 1
      if status == 'firing' then
        firingDelta = firingDelta + 1
        entry('alert_added', key, nil)
      else
        resolvedSome = true
        entry('alert_resolved', key, nil)
      end
    else
      stale = stale + 1
    end
  else
    local st, fs, _, cnt, dg = string.match(meta, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
    putMeta(key, status .. '|' .. fs .. '|' .. now .. '|' .. (tonumber(cnt) + 1) .. '|' .. digest)
    if dg ~= digest then
      alertWrites[#alertWrites + 1] = key
      alertWrites[#alertWrites + 1] = json
    end
    if st ~= status then
      changed = changed + 1
      if status == 'resolved' then
        firingDelta = firingDelta - 1
        resolvedSome = true
        entry('alert_resolved', key, nil)
      else
        firingDelta = firingDelta + 1
        entry('alert_refired', key, nil)
      end
    elseif dg ~= digest then
      changed = changed + 1
    else
      dups = dups + 1
    end
  end
  if status == 'firing' then
    local r = sevRank[sev] or 0
    if r > maxSev then maxSev = r end
  end
end

if truncated > 0 then
  entry('alerts_truncated', nil, 'the sender dropped ' .. truncated .. ' alerts of this group')
end

local cur = redis.call('HMGET', inc, 'status', 'severity', 'firing', 'alert_count', 'triggered_at')
local status, firing = cur[1], tonumber(cur[3]) + firingDelta
local fields = {}
if firingDelta ~= 0 then
  fields[#fields + 1] = 'firing'
  fields[#fields + 1] = firing
end
if countDelta ~= 0 then
  fields[#fields + 1] = 'alert_count'
  fields[#fields + 1] = tonumber(cur[4]) + countDelta
end
if maxSev > (sevRank[cur[2]] or 0) then
  for name, rank in pairs(sevRank) do
    if rank == maxSev then
      fields[#fields + 1] = 'severity'
      fields[#fields + 1] = name
    end
  end
end
if firingDelta ~= 0 or countDelta ~= 0 or changed ~= 0 then
  fields[#fields + 1] = 'updated_at'
  fields[#fields + 1] = now
end

if isOpen and firing <= 0 and resolvedSome and autoResolve and status ~= 'resolved' then
  setStatus(id, status, 'resolved', tonumber(cur[5]))
  fields[#fields + 1] = 'resolved_at'
  fields[#fields + 1] = now
  redis.call('HDEL', group, 'open')
  entry('resolved', nil, 'all alerts resolved')
  outcome = 'resolved'
  status = 'resolved'
end

if #fields > 0 then redis.call('HSET', inc, unpack(fields)) end
if #metaWrites > 0 then call('HSET', metaKey, metaWrites) end
if #alertWrites > 0 then call('HSET', alertsKey, alertWrites) end
if #timeline > 0 then call('RPUSH', inc .. ':timeline', timeline) end

return {id, outcome, newCount, dups, changed, stale, status}
