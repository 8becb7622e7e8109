-- KEYS[1] staging hash, KEYS[2] staging blobs hash, KEYS[3] the version's hash,
-- KEYS[4] the tenant's staged version id (one staging per tenant at a time).
-- ARGV[1] kind (create|rotate), [2] reason, [3] users to remove (one per line),
-- [4] created_by, [5] expires_at, [6] ttl seconds, [7] the version id.
-- Opens the staging area of a pending version; it expires unless a chunk refreshes it.
-- -> {'ok'} | {'version-exists'} | {'staging-exists', the staged version id}
if redis.call('EXISTS', KEYS[3]) == 1 then return {'version-exists'} end
local other = redis.call('GET', KEYS[4])
if other then return {'staging-exists', other} end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'reason', ARGV[2], 'remove', ARGV[3],
           'created_by', ARGV[4], 'expires_at', ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
redis.call('SET', KEYS[4], ARGV[7], 'EX', tonumber(ARGV[6]))
return {'ok'}
