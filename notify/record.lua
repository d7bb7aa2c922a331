-- record: the outcome of one page's delivery, and the end of its outbox
-- entry, atomically.
--
-- KEYS[1]  the shard's outbox stream (K.outbox())
-- KEYS[2]  the incident's hash        (K.incident(id))
-- KEYS[3]  the incident's timeline    (K.timeline(id))
-- KEYS[4]  the incident's pages       (K.pages(id): page key → result)
-- A call with KEYS[1] alone only acknowledges and deletes the entry: a
-- malformed entry, a page of a gone incident, a page already recorded.
--
-- Header (besides base, now, req, actor):
--   group   the consumer group
--   entry   the stream entry's id
--   key     the page's idempotency key
--   result  "delivered" or "failed"
-- ARGV[2]  the timeline entry's "page" object, JSON (alertgate.PageEntry)
--
-- Returns {answer}: "recorded"; "duplicate" (the key was recorded before:
-- this was a redelivery, and nothing but the acknowledgement is written);
-- "gone" (the incident no longer exists: acknowledged, nothing written, so
-- no timeline is left without its incident); "dropped" (KEYS[1] alone).
--
-- The entry is acknowledged and deleted in every case: the stream holds
-- only pages still to deliver, so it stays small, and a consumer group
-- made again from 0 delivers exactly what is left.

local stream = KEYS[1]

local typ
if #KEYS > 1 then
  if H.result == 'delivered' then
    typ = EV_page_delivered
  elseif H.result == 'failed' then
    typ = EV_page_failed
  else
    return redis.error_reply('record: unknown result ' .. tostring(H.result))
  end
end

redis.call('XACK', stream, H.group, H.entry)
redis.call('XDEL', stream, H.entry)
if #KEYS == 1 then return {'dropped'} end

local inc, timeline, pages = KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', inc) == 0 then return {'gone'} end
if redis.call('HSETNX', pages, H.key, H.result) == 0 then return {'duplicate'} end

-- The same shape as the prelude's addEntry, with the page object.
redis.call('RPUSH', timeline, '{"at":' .. string.format('%d', now) .. ',"actor":' .. cjson.encode(H.actor or '')
  .. ',"type":"' .. typ .. '","page":' .. ARGV[2] .. '}')
return {'recorded'}
