-- KEYS[1] user hash, KEYS[2] user keys set.  ARGV[1] tenant prefix.
-- -> false when the user does not exist, else
--    {{key_id, label, created_at, expires_at, revoked, parent}, ...}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local out = {}
for _, kid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local k = redis.call('HMGET', K.api_key(ARGV[1], kid), 'label', 'created_at',
                      'expires_at', 'revoked', 'parent')
  out[#out + 1] = {kid, k[1] or '', k[2] or '', k[3] or '', k[4] or '0', k[5] or ''}
end
return out
