-- ingest: apply one batch of alerts of one group, atomically.
--
-- KEYS[1]  the group's hash (K.group(ghash)): open, last, reqs
-- KEYS[2]  the shard's incident id counter (K.seq)
-- KEYS[3]  the shard's index of every incident (K.incidents)
-- Header (besides base, now, req, actor):
--   shard, shards    a new incident's id is seq * shards + shard
--   route, group_key, ghash
--   service, title   for a new incident
--   auto_resolve     resolve the incident when its last alert resolves
--   reopen_ms        an alert firing this soon after the incident resolved
--                    reopens it (0: never)
--   truncated        alerts the sender dropped (0 if none)
-- ARGV[2…]: per alert, ALERT_WIDTH values: key, status, severity, digest, json
--
-- Returns {incident, outcome, new, duplicates, changed, stale, status}:
-- outcome is "opened", "reopened", "updated", "resolved" (auto-resolved by
-- this batch) or "stale" (nothing open and nothing firing). A repeat of a
-- request (same req) returns the first answer and changes nothing.

local ALERT_WIDTH = 5
local group = KEYS[1]

local prev = replayed(group)
if prev then return prev end

local n = (#ARGV - 1) / ALERT_WIDTH
local function arg(i, field) return ARGV[2 + i * ALERT_WIDTH + field] end

local anyFiring = false
for i = 0, n - 1 do
  if arg(i, 1) == 'firing' then anyFiring = true end
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
      return cjson.encode({incident = '', outcome = 'stale', new = 0, duplicates = 0, changed = 0, stale = n, status = ''})
    end
    isOpen = false
    outcome = 'stale'
  else
    local last = redis.call('HGET', group, 'last')
    local resolvedAt = nil
    if last then
      resolvedAt = tonumber(redis.call('HGET', K.incident(last), 'resolved_at'))
    end
    if last and H.reopen_ms > 0 and resolvedAt and now - resolvedAt <= H.reopen_ms then
      id = last
      local inc = K.incident(id)
      setStatus(id, ST.resolved, ST.triggered, tonumber(redis.call('HGET', inc, 'triggered_at')))
      redis.call('HDEL', inc, 'resolved_at', 'acknowledged_at')
      redis.call('HINCRBY', inc, 'reopened', 1)
      addEntry(EV.reopened)
      outcome = 'reopened'
    else
      local seq = redis.call('INCR', KEYS[2])
      id = string.format('%d', seq * H.shards + H.shard)
      redis.call('HSET', K.incident(id),
        'id', id, 'title', H.title, 'service', H.service, 'severity', 'info',
        'status', ST.triggered, 'route', H.route, 'group_key', H.group_key,
        'ghash', H.ghash, 'triggered_at', now, 'updated_at', now,
        'alert_count', 0, 'firing', 0, 'reopened', 0)
      redis.call('ZADD', KEYS[3], now, id)
      redis.call('ZADD', K.status(ST.triggered), now, id)
      addEntry(EV.triggered, nil, H.title)
      outcome = 'opened'
    end
    redis.call('HSET', group, 'open', id, 'last', id)
  end
end

local inc = K.incident(id)
local metaKey = K.ameta(id)
local newCount, dups, changed, stale = 0, 0, 0, 0
local firingDelta, countDelta = 0, 0
local maxSev = 0
local resolvedSome = false

local keys = {}
for i = 0, n - 1 do keys[i + 1] = arg(i, 0) end
local got = hmgetMany(metaKey, keys)
local metas = {}
for i = 1, n do
  if got[i] then metas[keys[i]] = got[i] end
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
  local key, status, sev, digest, json = arg(i, 0), arg(i, 1), arg(i, 2), arg(i, 3), arg(i, 4)
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
        addEntry(EV.alert_added, key)
      else
        resolvedSome = true
        addEntry(EV.alert_resolved, key)
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
        addEntry(EV.alert_resolved, key)
      else
        firingDelta = firingDelta + 1
        addEntry(EV.alert_refired, key)
      end
    elseif dg ~= digest then
      changed = changed + 1
    else
      dups = dups + 1
    end
  end
  if status == 'firing' then
    local r = SEV[sev] or 0
    if r > maxSev then maxSev = r end
  end
end

if H.truncated > 0 then
  addEntry(EV.alerts_truncated, nil, 'the sender dropped ' .. H.truncated .. ' alerts of this group')
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
if maxSev > (SEV[cur[2]] or 0) then
  for name, rank in pairs(SEV) do
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

if isOpen and firing <= 0 and resolvedSome and H.auto_resolve and status ~= ST.resolved then
  setStatus(id, status, ST.resolved, tonumber(cur[5]))
  fields[#fields + 1] = 'resolved_at'
  fields[#fields + 1] = now
  redis.call('HDEL', group, 'open')
  addEntry(EV.resolved, nil, 'all alerts resolved')
  outcome = 'resolved'
  status = ST.resolved
end

if #fields > 0 then redis.call('HSET', inc, unpack(fields)) end
if #metaWrites > 0 then callMany('HSET', metaKey, metaWrites) end
if #alertWrites > 0 then callMany('HSET', K.alerts(id), alertWrites) end
flushTimeline(id)

local result = cjson.encode({incident = id, outcome = outcome, new = newCount, duplicates = dups,
  changed = changed, stale = stale, status = status})
remember(group, result)
return result
