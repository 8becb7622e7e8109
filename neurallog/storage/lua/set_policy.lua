-- KEYS[1] tenant hash.  ARGV[1] rotate_every_days (0: no policy). Audited; the policy link
-- is appended in the same step (required once the chain has started).
-- -> {'ok', previous days} | a chain or audit refusal
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
local previous = redis.call('HGET', KEYS[1], 'rotate_every_days') or '0'
redis.call('HSET', KEYS[1], 'rotate_every_days', ARGV[1])
return {'ok', previous}
