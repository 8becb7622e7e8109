-- KEYS[1] user blobs hash, KEYS[2] version blobs set.  ARGV[1] version id, ARGV[2] user id.
-- Audited.
-- -> {'ok'} | {'blob-not-found'} | an audit refusal
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'blob-not-found'} end
local err = audit_check('')
if err then return err end
audit_append()
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return {'ok'}
