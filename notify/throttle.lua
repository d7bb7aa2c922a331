-- throttle: a target's rate limit, shared by every replica: a generic
-- cell rate algorithm over one key holding the theoretical arrival time
-- (TAT) of the next message, Unix ms. A message may go while the TAT is
-- at most (burst - 1) intervals ahead of now; each one sent moves it on
-- by an interval.
--
-- KEYS[1]  the target's key (its own hash tag: one key, any node)
-- Header (besides now): interval (ms per message), burst, want (how many
-- messages the caller has for the target).
--
-- Returns {allowed, wait}: how many of them may go now, and in how many
-- ms the next one may.

local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local ahead = (H.burst - 1) * H.interval
local allowed = 0
while allowed < H.want and tat - now <= ahead do
  allowed = allowed + 1
  tat = tat + H.interval
end
if allowed > 0 then
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.max(1, tat - now + H.interval))
end
local wait = tat - ahead - now
if wait < 0 then wait = 0 end
return {allowed, wait}
