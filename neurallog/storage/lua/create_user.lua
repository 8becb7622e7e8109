-- KEYS[1] users set, KEYS[2] user hash, KEYS[3] user keys set, KEYS[4] key hash,
-- KEYS[5] tenant hash, KEYS[6] users order.  ARGV[1..9] as in new_user.lua. Audited
-- (audit_chain.lua) and chained (chain_link.lua).
-- -> {'ok'} | {'no-tenant'} | {'user-exists'} | {'key-exists'} | a chain or audit refusal
if redis.call('EXISTS', KEYS[5]) == 0 then return {'no-tenant'} end
local err = new_user_check() or chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
new_user_write()
return {'ok'}
