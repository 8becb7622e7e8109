-- KEYS[1] staging hash, KEYS[2] staging blobs hash, KEYS[3] the staged version id.
-- ARGV[1] the version id. Drops a staging (its blobs with it); no version is made.
-- -> {'ok'} | {'staging-not-found'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'staging-not-found'} end
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return {'ok'}
