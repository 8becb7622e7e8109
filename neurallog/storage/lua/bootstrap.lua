-- As create_user.lua, plus ARGV[10] bootstrap token hash, ARGV[11] profile JSON.
-- Consumes the bootstrap token and registers the profile and first admin in one step.
-- -> {'ok'} | {'bad-token'} | {'user-exists'} | {'key-exists'} | a chain or audit refusal
local h = redis.call('HGET', KEYS[5], 'bootstrap_hash')
if (not h) or h ~= ARGV[10] then return {'bad-token'} end
local err = new_user_check() or chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
new_user_write()
redis.call('HDEL', KEYS[5], 'bootstrap_hash')
redis.call('HSET', KEYS[5], 'profile', ARGV[11], 'bootstrapped_at', ARGV[4])
return {'ok'}
