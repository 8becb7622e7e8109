-- KEYS[1] versions list, KEYS[2] active version, KEYS[3] users set, KEYS[4] new version
-- hash, KEYS[5] new version's blob set.
-- ARGV[1] tenant prefix, [2] version id, [3] created_at, [4] created_by, [5] reason,
-- [6] n = number of users to remove, [7..6+n] their ids, then (user_id, blob) pairs.
-- Audited. Checks everything first, then applies everything: rotation is all or nothing.
-- The caller (created_by) may not remove itself, and a removal may not leave no active
-- admin. Auditors read no logs: they never get a blob and coverage counts admins and
-- members only.
-- -> {'ok', previous active or ''} | {'version-exists'} | {'bad-remove', user} |
--    {'blob-unknown-user', user} | {'blob-inactive-user', user, state} |
--    {'blob-auditor', user} | {'missing', user...} | {'remove-self'} | {'remove-last-admin'}
--    | a chain or audit refusal
local p = ARGV[1]
local vid = ARGV[2]
if redis.call('EXISTS', KEYS[4]) == 1 then return {'version-exists'} end
local n = tonumber(ARGV[6])
local remove = {}
local drops_admin = false
for i = 7, 6 + n do
  local r = redis.call('HMGET', K.user(p, ARGV[i]), 'state', 'role')
  local st = r[1]
  if (not st) or st == 'removed' then return {'bad-remove', ARGV[i]} end
  if ARGV[i] == ARGV[4] then return {'remove-self'} end
  if st == 'active' and r[2] == 'admin' then drops_admin = true end
  remove[ARGV[i]] = true
end
if drops_admin and active_admins(p, KEYS[3], remove) == 0 then return {'remove-last-admin'} end
local blobs = {}
local i = 7 + n
while i < #ARGV do
  local uid = ARGV[i]
  local u = redis.call('HMGET', K.user(p, uid), 'state', 'role')
  local st = u[1]
  if not st then return {'blob-unknown-user', uid} end
  if remove[uid] then return {'blob-inactive-user', uid, 'removed'} end
  if st ~= 'active' then return {'blob-inactive-user', uid, st} end
  if u[2] == 'auditor' then return {'blob-auditor', uid} end
  blobs[uid] = ARGV[i + 1]
  i = i + 2
end
local missing = {'missing'}
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if (not remove[uid]) and (not blobs[uid]) then
    local u = redis.call('HMGET', K.user(p, uid), 'state', 'role')
    if u[1] == 'active' and u[2] ~= 'auditor' then missing[#missing + 1] = uid end
  end
end
if #missing > 1 then return missing end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
local old = redis.call('GET', KEYS[2])
if old then redis.call('HSET', K.version(p, old), 'status', 'decrypt-only') end
redis.call('HSET', KEYS[4], 'id', vid, 'status', 'active', 'created_at', ARGV[3],
           'created_by', ARGV[4], 'reason', ARGV[5])
redis.call('RPUSH', KEYS[1], vid)
redis.call('SET', KEYS[2], vid)
for uid, blob in pairs(blobs) do
  redis.call('HSET', K.user_blobs(p, uid), vid, ARGV[3] .. '|' .. blob)
  redis.call('SADD', KEYS[5], uid)
end
for uid, _ in pairs(remove) do
  redis.call('HSET', K.user(p, uid), 'state', 'removed', 'removed_at', ARGV[3])
  for _, v in ipairs(redis.call('HKEYS', K.user_blobs(p, uid))) do
    redis.call('SREM', K.version_blobs(p, v), uid)
  end
  redis.call('DEL', K.user_blobs(p, uid))
  for _, kid in ipairs(redis.call('SMEMBERS', K.user_keys(p, uid))) do
    redis.call('HSET', K.api_key(p, kid), 'revoked', '1', 'revoked_at', ARGV[3])
  end
end
return {'ok', old or ''}
