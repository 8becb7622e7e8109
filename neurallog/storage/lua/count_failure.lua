-- KEYS[1..n] failure counters.  ARGV[1] window seconds, ARGV[1 + i] the limit of KEYS[i]
-- (0 = count only).
-- -> {1 over a limit | 0, seconds until the longest exceeded counter expires}
local over = 0
local ttl = 0
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  local limit = tonumber(ARGV[i + 1] or '0')
  if limit > 0 and n > limit then
    over = 1
    ttl = math.max(ttl, redis.call('TTL', KEYS[i]))
  end
end
return {over, ttl}
