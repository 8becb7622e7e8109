-- KEYS[1] user hash, KEYS[2] users set, KEYS[3] caller's user hash.  ARGV[1] disabled_at,
-- ARGV[2] tenant prefix, ARGV[3] user id, ARGV[4] caller's user id. Audited.
-- Nobody disables itself, the caller must still be active (a concurrent disable of the
-- caller wins), and the last active admin stays: checked and applied in one step, so two
-- admins disabling each other at once cannot both succeed.
-- -> {'ok'} | {'user-not-found'} | {'user-removed'} | {'user-inactive', state} (with a link)
--    | {'disable-self'} | {'caller-inactive'} | {'last-admin'} | a chain or audit refusal
local u = redis.call('HMGET', KEYS[1], 'state', 'role')
local st = u[1]
if not st then return {'user-not-found'} end
if st == STATE.REMOVED then return {'user-removed'} end
-- disabling a disabled user changes nothing, which no chain link may state
if st ~= STATE.ACTIVE and CHAIN.n > 0 then return {'user-inactive', st} end
if ARGV[3] == ARGV[4] then return {'disable-self'} end
if redis.call('HGET', KEYS[3], 'state') ~= STATE.ACTIVE then return {'caller-inactive'} end
if u[2] == ROLE.ADMIN and st == STATE.ACTIVE
   and active_admins(ARGV[2], KEYS[2], {[ARGV[3]] = true}) == 0 then
  return {'last-admin'}
end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
redis.call('HSET', KEYS[1], 'state', STATE.DISABLED, 'disabled_at', ARGV[1])
return {'ok'}
