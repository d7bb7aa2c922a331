-- ingest: apply one batch of alerts of one group, atomically.
--
-- KEYS[1]  the group's hash (K.group(ghash)): open, last
-- KEYS[2]  the shard's incident id counter (K.seq())
-- KEYS[3]  the shard's index of every incident (K.incidents())
-- Header (besides base, now, req, actor):
--   shard            a new incident's id is seq * SHARDS + shard
--   auto_resolve     resolve the incident when its last alert resolves
--   reopen_ms        an alert firing this soon after the incident resolved
--                    reopens it (0: never)
--   truncated        alerts the sender dropped (0 if none)
--   policy           the route's escalation policy ('' for none)
--   group_wait_ms    how long after opening (or reopening) the first
--                    escalation step falls due
--   flap_n, flap_ms  flap detection: an alert changing state more than
--                    flap_n times within flap_ms marks the incident
--                    flapping (flap_n 0: off). The group's hash keeps each
--                    alert's recent change times ("flap:<key>" → "t,t,…"),
--                    so they count across a resolve and a new incident.
-- ARGV[2]: a JSON object, decoded only to open an incident: route,
--   group_key, ghash, and the new incident's service and title
-- ARGV[3…]: per alert, ALERT_WIDTH values: key, status, severity, digest, json
--
-- Every alert's meta records the request that last changed it:
--   "status|first_seen|last_seen|received|digest|req"
-- (metas written before the request id came have five fields). A repeat of
-- a request (same req: a client resent it after a timeout) finds its own id
-- on its alerts and changes nothing: no alert is counted twice, no second
-- incident opens, a resolved incident does not reopen. It answers with
-- nothing new and nothing duplicated.
--
-- Returns {incident, outcome, new, duplicates, changed, stale, status}:
-- outcome is "opened", "reopened", "updated", "resolved" (auto-resolved by
-- this batch) or "stale" (nothing open and nothing firing).

local ALERT_WIDTH = 5
local group = KEYS[1]

local function answer(incident, outcome, new, duplicates, changed, stale, status)
  return {incident, outcome, new, duplicates, changed, stale, status or ''}
end

local n = (#ARGV - 2) / ALERT_WIDTH
local function arg(i, field) return ARGV[3 + i * ALERT_WIDTH + field] end

local anyFiring = false
local keys, inBatch, distinct = {}, {}, 0
for i = 0, n - 1 do
  local key = arg(i, 0)
  keys[i + 1] = key
  if not inBatch[key] then inBatch[key], distinct = true, distinct + 1 end
  if arg(i, 1) == 'firing' then anyFiring = true end
end

-- parseMeta splits an alert's meta; req is '' in a five-field meta.
local function parseMeta(meta)
  local st, fs, ls, cnt, dg, rest = string.match(meta, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)(.*)$')
  return st, fs, ls, cnt, dg, string.sub(rest, 2)
end

-- The group's open incident, else its last one: the incident this batch
-- changes, unless it opens a new one.
local g = redis.call('HMGET', group, 'open', 'last')
local isOpen = g[1] ~= false
local id = g[1] or g[2]
local incStatus, incSev, firing, count, triggeredAt, resolvedAt
local flapping = false
local metas, repeated, nRepeated = {}, {}, 0
if id then
  local f = redis.call('HMGET', K.incident(id), 'status', 'severity', 'firing', 'alert_count', 'triggered_at', 'resolved_at', 'flapping')
  incStatus, incSev, firing, count = f[1], f[2], tonumber(f[3]), tonumber(f[4])
  triggeredAt, resolvedAt = tonumber(f[5]), tonumber(f[6])
  flapping = f[7] == '1'
  local got = hmgetMany(K.ameta(id), keys)
  for i = 1, n do
    local meta = got[i]
    if meta then
      metas[keys[i]] = meta
      local _, _, _, _, _, req = parseMeta(meta)
      if req == H.req and not repeated[keys[i]] then
        repeated[keys[i]] = true
        nRepeated = nRepeated + 1
      end
    end
  end
  if n > 0 and nRepeated == distinct then
    -- Every alert of the batch was applied by this very request already.
    return answer(id, isOpen and 'updated' or 'stale', 0, 0, 0, 0, incStatus)
  end
end

local outcome = 'updated'

if not isOpen then
  if not anyFiring then
    -- Only resolutions, and no open incident: they belong to the last one,
    -- if any; it stays resolved.
    if not id then
      return answer('', 'stale', 0, 0, 0, n, '')
    end
    outcome = 'stale'
  else
    if id and H.reopen_ms > 0 and resolvedAt and now - resolvedAt <= H.reopen_ms then
      setStatus(id, ST_resolved, ST_triggered, triggeredAt)
      redis.call('HDEL', K.incident(id), 'resolved_at', 'acknowledged_at')
      redis.call('HINCRBY', K.incident(id), 'reopened', 1)
      incStatus = ST_triggered
      addEntry(EV_reopened)
      startEscalation(id, H.policy, now + H.group_wait_ms)
      outcome = 'reopened'
    else
      local opening = cjson.decode(ARGV[2])
      local seq = redis.call('INCR', KEYS[2])
      id = string.format('%d', seq * SHARDS + H.shard)
      incStatus, incSev, firing, count, triggeredAt = ST_triggered, 'info', 0, 0, now
      flapping = false
      metas, repeated = {}, {} -- the last incident's alerts are not this one's
      redis.call('HSET', K.incident(id),
        'id', id, 'title', opening.title, 'service', opening.service, 'severity', incSev,
        'status', incStatus, 'route', opening.route, 'group_key', opening.group_key,
        'ghash', opening.ghash, 'triggered_at', now, 'updated_at', now,
        'alert_count', 0, 'firing', 0, 'reopened', 0)
      redis.call('ZADD', KEYS[3], now, id)
      redis.call('ZADD', K.status(ST_triggered), now, id)
      addEntry(EV_triggered, nil, opening.title)
      startEscalation(id, H.policy, now + H.group_wait_ms)
      outcome = 'opened'
    end
    isOpen = true
    redis.call('HSET', group, 'open', id, 'last', id)
  end
end

local metaKey = K.ameta(id)
local newCount, dups, changed, stale = 0, 0, 0, 0
local firingDelta, countDelta = 0, 0
local maxSev = 0
local resolvedSome = false

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

-- noteTransition records that alert key changed state now, and whether
-- that makes it flap: more than flap_n changes within flap_ms.
local flapKeys = {}
local flapWrites = {}
local function noteTransition(key)
  if not H.flap_n or H.flap_n <= 0 then return end
  local field = 'flap:' .. key
  local kept = {}
  local raw = flapWrites[field] or redis.call('HGET', group, field)
  if raw then
    for t in string.gmatch(raw, '[^,]+') do
      if tonumber(t) > now - H.flap_ms then kept[#kept + 1] = t end
    end
  end
  kept[#kept + 1] = string.format('%d', now)
  flapWrites[field] = table.concat(kept, ',')
  if #kept > H.flap_n then flapKeys[#flapKeys + 1] = key end
end

local mark = '|' .. (H.req or '')
for i = 0, n - 1 do
  local key, status, sev, digest, json = arg(i, 0), arg(i, 1), arg(i, 2), arg(i, 3), arg(i, 4)
  local meta = metas[key]
  if repeated[key] and not written[key] then
    -- applied by this request already: a repeat changes nothing
  elseif not meta then
    if status == 'firing' or isOpen then
      alertWrites[#alertWrites + 1] = key
      alertWrites[#alertWrites + 1] = json
      putMeta(key, status .. '|' .. now .. '|' .. now .. '|1|' .. digest .. mark)
      countDelta = countDelta + 1
      newCount = newCount + 1
      if status == 'firing' then
        firingDelta = firingDelta + 1
        addEntry(EV_alert_added, key)
      else
        resolvedSome = true
        addEntry(EV_alert_resolved, key)
      end
    else
      stale = stale + 1
    end
  else
    local st, fs, _, cnt, dg = parseMeta(meta)
    putMeta(key, status .. '|' .. fs .. '|' .. now .. '|' .. (tonumber(cnt) + 1) .. '|' .. digest .. mark)
    if dg ~= digest then
      alertWrites[#alertWrites + 1] = key
      alertWrites[#alertWrites + 1] = json
    end
    if st ~= status then
      changed = changed + 1
      noteTransition(key)
      if status == 'resolved' then
        firingDelta = firingDelta - 1
        resolvedSome = true
        addEntry(EV_alert_resolved, key)
      else
        firingDelta = firingDelta + 1
        addEntry(EV_alert_refired, key)
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
  addEntry(EV_alerts_truncated, nil, 'the sender dropped ' .. H.truncated .. ' alerts of this group')
end

firing = firing + firingDelta
local fields = {}
if firingDelta ~= 0 then
  fields[#fields + 1] = 'firing'
  fields[#fields + 1] = firing
end
if countDelta ~= 0 then
  fields[#fields + 1] = 'alert_count'
  fields[#fields + 1] = count + countDelta
end
if maxSev > (SEV[incSev] or 0) then
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

-- Flapping: the incident stays open until it has been stable for
-- flap_ms (flap_until moves on with every change while it flaps).
local flapNow = #flapKeys > 0 or (flapping and changed > 0)
if flapNow and isOpen then
  if not flapping then
    addEntry(EV_flapping, flapKeys[1], string.format(
      'flapping: the alert changed state more than %d times in %ds; one page, then quiet until it is stable for %ds',
      H.flap_n, H.flap_ms / 1000, H.flap_ms / 1000))
    fields[#fields + 1] = 'flapping'
    fields[#fields + 1] = '1'
    flapping = true
  end
  fields[#fields + 1] = 'flap_until'
  fields[#fields + 1] = now + H.flap_ms
  fields[#fields + 1] = 'flap_resolve'
  fields[#fields + 1] = H.auto_resolve and '1' or '0'
  -- The engine's claim ends the flapping once it is due (claim.lua).
  redis.call('ZADD', K.flapdue(), now + H.flap_ms, id)
end
if next(flapWrites) then
  local w = {}
  for k, v in pairs(flapWrites) do w[#w + 1] = k; w[#w + 1] = v end
  callMany('HSET', group, w)
end

if isOpen and firing <= 0 and resolvedSome and H.auto_resolve and incStatus ~= ST_resolved and not flapping then
  setStatus(id, incStatus, ST_resolved, triggeredAt)
  fields[#fields + 1] = 'resolved_at'
  fields[#fields + 1] = now
  redis.call('HDEL', group, 'open')
  addEntry(EV_resolved, nil, 'all alerts resolved')
  stopEscalation(id)
  outcome = 'resolved'
  incStatus = ST_resolved
end

if #fields > 0 then redis.call('HSET', K.incident(id), unpack(fields)) end
if #metaWrites > 0 then callMany('HSET', metaKey, metaWrites) end
if #alertWrites > 0 then callMany('HSET', K.alerts(id), alertWrites) end
flushTimeline(id)
return answer(id, outcome, newCount, dups, changed, stale, incStatus)
