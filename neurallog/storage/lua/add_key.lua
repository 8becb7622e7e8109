-- KEYS[1] user hash, KEYS[2] user keys set, KEYS[3] key hash, KEYS[4] (only with a parent)
-- the parent key hash.  ARGV[1] key_id, [2] user_id, [3] token_hash, [4] slot, [5] label,
-- [6] created_at, [7] expires_at, [8] parent key id ("" = a root key). Audited.
-- A key a user mints for itself records the minting key as its parent, which must still be
-- a live key of the same user at this instant (a revocation racing the mint wins).
-- -> {'ok'} | {'user-not-found'} | {'user-inactive', state} | {'key-exists'}
--    | {'parent-revoked'} | an audit refusal
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'user-not-found'} end
if st ~= STATE.ACTIVE then return {'user-inactive', st} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'key-exists'} end
if ARGV[8] ~= '' then
  local pk = redis.call('HMGET', KEYS[4], 'user_id', 'revoked')
  if pk[1] ~= ARGV[2] or pk[2] == '1' then return {'parent-revoked'} end
end
local err = audit_check('')
if err then return err end
audit_append()
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'key_id', ARGV[1], 'user_id', ARGV[2], 'token_hash', ARGV[3],
           'slot', ARGV[4], 'label', ARGV[5], 'created_at', ARGV[6], 'expires_at', ARGV[7],
           'revoked', '0')
if ARGV[8] ~= '' then redis.call('HSET', KEYS[3], 'parent', ARGV[8]) end
return {'ok'}
