-- KEYS[1] staging hash, KEYS[2] staging blobs hash, KEYS[3] the staged version id.
-- ARGV[1] tenant prefix, [2] expires_at, [3] ttl seconds, [4] the chunk packed as
-- user_id, blob, user_id, blob ... each followed by a newline (neither holds one): one
-- argument, so the server does not encode two per blob.
-- Adds one chunk: each user must exist, be active, read logs (no auditor) and not be one
-- the rotation removes. A user staged before is replaced (a chunk sent again after a
-- crash is fine). Checks the whole chunk before writing any of it; refreshes the expiry.
-- -> {'ok', blobs staged} | {'staging-not-found'} | {'blob-unknown-user', user} |
--    {'blob-inactive-user', user, state} | {'blob-auditor', user}
local p = ARGV[1]
local pairs_flat = {}
for item in string.gmatch(ARGV[4], '([^\n]*)\n') do pairs_flat[#pairs_flat + 1] = item end
local remove_text = redis.call('HGET', KEYS[1], 'remove')
if not remove_text then return {'staging-not-found'} end
local remove = {}
for uid in string.gmatch(remove_text, '[^\n]+') do remove[uid] = true end
for i = 1, #pairs_flat - 1, 2 do
  local uid = pairs_flat[i]
  local u = redis.call('HMGET', K.user(p, uid), 'state', 'role')
  local st = u[1]
  if not st then return {'blob-unknown-user', uid} end
  if remove[uid] then return {'blob-inactive-user', uid, STATE.REMOVED} end
  if st ~= STATE.ACTIVE then return {'blob-inactive-user', uid, st} end
  if u[2] == ROLE.AUDITOR then return {'blob-auditor', uid} end
end
local step = 1000
for i = 1, #pairs_flat, step do
  redis.call('HSET', KEYS[2], unpack(pairs_flat, i, math.min(i + step - 1, #pairs_flat)))
end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'expires_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ttl) end
redis.call('EXPIRE', KEYS[3], ttl)
return {'ok', redis.call('HLEN', KEYS[2])}
