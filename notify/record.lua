-- record: the outcome of one delivery attempt, and the end of its outbox
-- entry, atomically.
--
-- KEYS[1]  the shard's outbox stream  (K.outbox())
-- KEYS[2]  the incident's hash        (K.incident(id))
-- KEYS[3]  the incident's timeline    (K.timeline(id))
-- KEYS[4]  the incident's pages       (K.pages(id): page key → result)
-- KEYS[5]  the shard's waiting set    (K.later(): page key by due time)
-- KEYS[6]  the waiting pages          (K.laterpages(): page key → state "\n" page)
-- KEYS[7]  the shard's dead letters   (K.dead())
-- KEYS[8]  the incident's notices     (K.notified(id): contact → resolution notice)
-- KEYS[9]  the shard's due set        (K.due())
-- A call with KEYS[1] alone only acknowledges and deletes the entry: a
-- malformed entry, a page of a gone incident, a page already recorded.
--
-- Header (besides base, now, req, actor):
--   group    the consumer group
--   entry    the stream entry's id
--   key      the page's idempotency key
--   result   "delivered", "failed" (for good: a permanent refusal, or
--            delivery gave up) or "later" (another attempt is due later)
--   id       the incident
-- result "delivered":
--   contact  where the page went ("notifier|address"), for its notice
--   ARGV[2]  the timeline entry's "page" object, JSON (alertgate.PageEntry)
--   ARGV[3]  the resolution notice due to the contact when the incident
--            resolves (a page JSON), or '' (the message was a notice)
-- result "failed":
--   ARGV[2]  the timeline entry's "page" object
--   ARGV[3]  the dead letter (JSON), kept in the capped dead stream
--   ARGV[4]  the page to try next (the person's next contact), or ''
--   failover the timeline message of the failover ('' for none)
--   advance  "1": with no contact left, run the policy's next step now,
--            unless a page of the same step (key prefix step_prefix) was
--            delivered: someone else was reached
--   epoch    the escalation epoch the page belongs to (a string)
--   step_prefix  the key prefix of the step's pages
--   failover_next  the timeline message when the next step is run now
-- result "later":
--   due      when the next attempt is due (Unix ms)
--   ARGV[2]  the waiting page: its delivery state JSON, "\n", its page JSON
--   note     a page_waiting timeline message ('' when the reason for
--            waiting has not changed since the last one)
--   ARGV[3]  the timeline entry's "page" object (with note only)
--
-- Returns {answer}: "recorded"; "duplicate" (the key was recorded before:
-- this was a redelivery, and nothing but the acknowledgement is written);
-- "gone" (the incident no longer exists: acknowledged, nothing written, so
-- no timeline is left without its incident); "dropped" (KEYS[1] alone);
-- "waiting" (result later).
--
-- The entry is acknowledged and deleted in every case: the stream holds
-- only pages still to deliver, so it stays small, and a consumer group
-- made again from 0 delivers exactly what is left.

local DEAD_KEPT = 1000

local stream = KEYS[1]
redis.call('XACK', stream, H.group, H.entry)
redis.call('XDEL', stream, H.entry)
if #KEYS == 1 then return {'dropped'} end

local inc, timeline, pages = KEYS[2], KEYS[3], KEYS[4]
local later, laterPages, dead, notified, due = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
if redis.call('EXISTS', inc) == 0 then return {'gone'} end

local head = '{"at":' .. string.format('%d', now) .. ',"actor":' .. cjson.encode(H.actor or '') .. ',"type":"'
local function entry(typ, message, page)
  local e = head .. typ .. '"'
  if message and message ~= '' then e = e .. ',"message":' .. cjson.encode(message) end
  if page then e = e .. ',"page":' .. page end
  redis.call('RPUSH', timeline, e .. '}')
end

if H.result == 'later' then
  if redis.call('HEXISTS', pages, H.key) == 1 then return {'duplicate'} end
  redis.call('HSET', laterPages, H.key, ARGV[2])
  redis.call('ZADD', later, H.due, H.key)
  if H.note ~= '' then entry(EV_page_waiting, H.note, ARGV[3]) end
  return {'waiting'}
end

local result = H.result
if result ~= 'delivered' and result ~= 'failed' then
  return redis.error_reply('record: unknown result ' .. tostring(result))
end
if redis.call('HSETNX', pages, H.key, result) == 0 then return {'duplicate'} end

if result == 'delivered' then
  entry(EV_page_delivered, nil, ARGV[2])
  local notice = ARGV[3]
  if notice ~= '' then
    -- Resolved while the page was out: the notice goes at once.
    if redis.call('HGET', inc, 'status') == ST_resolved then
      redis.call('XADD', stream, '*', 'page', notice, 'at', now)
    else
      redis.call('HSET', notified, H.contact, notice)
    end
  end
  return {'recorded'}
end

entry(EV_page_failed, nil, ARGV[2])
redis.call('XADD', dead, 'MAXLEN', '~', DEAD_KEPT, '*', 'dead', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('XADD', stream, '*', 'page', ARGV[4])
  entry(EV_page_failover, H.failover)
  return {'recorded'}
end
if H.advance ~= '1' then return {'recorded'} end

local f = redis.call('HMGET', inc, 'status', 'esc_epoch', 'esc_next', 'esc_due')
if f[1] ~= ST_triggered or f[2] ~= H.epoch or not f[3] then return {'recorded'} end
-- Someone else paged by the same step was reached: the step did its work.
local all = redis.call('HGETALL', pages)
for i = 1, #all, 2 do
  if all[i + 1] == 'delivered' and string.sub(all[i], 1, #H.step_prefix) == H.step_prefix then
    return {'recorded'}
  end
end
local dueAt = tonumber(f[4])
if not dueAt or dueAt > now then
  redis.call('ZADD', due, now, H.id)
  redis.call('HSET', inc, 'esc_due', now)
end
entry(EV_page_failover, H.failover_next)
return {'recorded'}
