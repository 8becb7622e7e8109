-- KEYS[1] retention hash, KEYS[2] stream, KEYS[3] its entry-id zset.  ARGV[1]
-- max_entries or "", ARGV[2] max_age_seconds or "", ARGV[3] now (ms). Audited.
-- The limits apply at once (and again on every append): a stream nothing appends to any
-- more, like the streams of an old KEK version, is trimmed too.
-- -> {'ok'} | an audit refusal
local err = audit_check('')
if err then return err end
audit_append()
redis.call('DEL', KEYS[1])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'max_entries', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'max_age_seconds', ARGV[2]) end
local max_entries, max_age = nil, nil
if ARGV[1] ~= '' then max_entries = ARGV[1] end
if ARGV[2] ~= '' then max_age = ARGV[2] end
trim(KEYS[2], KEYS[3], max_entries, max_age, ARGV[3])
return {'ok'}
