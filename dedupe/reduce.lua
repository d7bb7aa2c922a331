-- reduce: shrink one long-resolved incident to what reports still count.
-- Its hash stays (every field), and so does its place in the indexes; its
-- timeline keeps only the entry types reports read; of its alerts only
-- the one that started first remains, cut to when it started; its
-- delivery records and kept notices go. Reports computed after the
-- reduction equal those before; the full record (payloads, notes, every
-- page) is what `alertgate export` keeps, taken before.
--
-- KEYS[1]  the incident's hash       KEYS[2]  its timeline
-- KEYS[3]  its alerts                KEYS[4]  its alerts' metas
-- KEYS[5]  its pages                 KEYS[6]  its kept notices
-- Header (besides base, now): before (ms: only an incident resolved
--   before this is reduced), keep (the alert key that stays, or ''),
--   keep_json (what stays of it).
-- ARGV[2…] the timeline entry types to keep.
--
-- Returns {result}: "reduced", or "skipped" (not resolved, resolved too
-- recently, gone, or reduced already). The check and the change are one
-- step: an incident reopened meanwhile is left whole.

local inc, timeline, alerts, metas, pages, notified = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local f = redis.call('HMGET', inc, 'status', 'resolved_at', 'reduced')
if f[1] ~= ST_resolved or not tonumber(f[2]) or tonumber(f[2]) >= H.before or f[3] then
  return {'skipped'}
end

local keep = {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
local kept, dropped = {}, 0
for _, e in ipairs(redis.call('LRANGE', timeline, 0, -1)) do
  local typ = string.match(e, '"type":"([^"]*)"')
  if typ and keep[typ] then
    kept[#kept + 1] = e
  else
    dropped = dropped + 1
  end
end
redis.call('DEL', timeline)
if #kept > 0 then callMany('RPUSH', timeline, kept) end

local meta = H.keep ~= '' and redis.call('HGET', metas, H.keep) or nil
redis.call('DEL', alerts, metas, pages, notified)
if H.keep ~= '' then
  redis.call('HSET', alerts, H.keep, H.keep_json)
  if meta then redis.call('HSET', metas, H.keep, meta) end
end
redis.call('HSET', inc, 'reduced', now, 'reduced_entries', dropped)
return {'reduced'}
