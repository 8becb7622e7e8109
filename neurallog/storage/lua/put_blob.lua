-- KEYS[1] version hash, KEYS[2] user hash, KEYS[3] user blobs hash, KEYS[4] version blobs
-- set.  ARGV[1] version id, [2] user id, [3] created_at, [4] blob. Audited; the outcome is
-- 'created' or 'replaced' (the record's status: 201 or 200).
-- -> {'ok', 1 created | 0 replaced} | {'version-not-found'} | {'user-not-found'}
--    | {'deprecated'} | {'version-destroyed'} | {'user-inactive', state} | {'auditor'} | an audit refusal
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'version-not-found'} end
local u = redis.call('HMGET', KEYS[2], 'state', 'role')
local us = u[1]
if not us then return {'user-not-found'} end
if u[2] == ROLE.AUDITOR then return {'auditor'} end
if st == STATUS.DEPRECATED then return {'deprecated'} end
if st == STATUS.DESTROYED then return {'version-destroyed'} end
if us ~= STATE.ACTIVE then return {'user-inactive', us} end
local outcome = 'created'
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then outcome = 'replaced' end
local err = audit_check(outcome)
if err then return err end
audit_append()
local created = redis.call('HSET', KEYS[3], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
return {'ok', created}
