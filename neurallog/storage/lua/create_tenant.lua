-- KEYS[1] tenant hash.  ARGV[1] tenant id, ARGV[2] created_at, ARGV[3] bootstrap token hash.
-- -> {'ok'} | {'tenant-exists'}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'tenant-exists'} end
redis.call('HSET', KEYS[1], 'tenant_id', ARGV[1], 'created_at', ARGV[2],
           'bootstrap_hash', ARGV[3])
return {'ok'}
