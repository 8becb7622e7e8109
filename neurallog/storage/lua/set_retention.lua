-- KEYS[1] retention hash.  ARGV[1] max_entries or "", ARGV[2] max_age_seconds or "".
-- Audited.
-- -> {'ok'} | an audit refusal
local err = audit_check('')
if err then return err end
audit_append()
redis.call('DEL', KEYS[1])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'max_entries', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'max_age_seconds', ARGV[2]) end
return {'ok'}
