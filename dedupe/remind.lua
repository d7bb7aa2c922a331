-- remind: queue the reminder of one overdue item (a postmortem, a
-- follow-up) once: whichever replica runs first marks it, the others
-- find the mark.
--
-- KEYS[1]  the incident's hash
-- KEYS[2]  the reminder's mark (K.link('remind.' .. item)), kept ttl_ms
-- KEYS[3]  the shard's outbox
-- Header (besides base, now, req, actor): ttl_ms
-- ARGV[2 …]  the reminder's pages (notify.Page JSON)
--
-- Returns {result}: "queued", "sent" (marked already) or "notfound".

if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
if redis.call('SET', KEYS[2], now, 'NX', 'PX', string.format('%d', math.max(H.ttl_ms, 1000))) == false then
  return {'sent'}
end
for i = 2, #ARGV do
  redis.call('XADD', KEYS[3], '*', 'page', ARGV[i])
end
return {'queued'}
