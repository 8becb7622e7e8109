-- Helper: the checks and the writes of a new active version, shared by the one-request
-- create/rotate (create_version.lua) and the staged commit (staging_commit.lua).
-- k = {versions, active, users, version, version_blobs} keys; remove_ids an array of user
-- ids; pairs a flat array user_id, blob, user_id, blob ... (ARGV or an HGETALL reply).
-- version_plan() checks everything and returns (plan, nil) or (nil, refusal); the script
-- then checks the chain and the audit head and calls version_apply(plan): all or nothing.
-- The caller (created_by) may not remove itself, and a removal may not leave no active
-- admin. Auditors read no logs: they never get a blob and coverage counts admins and
-- members only.
local function version_plan(p, k, vid, created_by, remove_ids, pairs_flat, first)
  if redis.call('EXISTS', k.version) == 1 then return nil, {'version-exists'} end
  local remove = {}
  local drops_admin = false
  for _, rid in ipairs(remove_ids) do
    local r = redis.call('HMGET', K.user(p, rid), 'state', 'role')
    local st = r[1]
    if (not st) or st == STATE.REMOVED then return nil, {'bad-remove', rid} end
    if rid == created_by then return nil, {'remove-self'} end
    if st == STATE.ACTIVE and r[2] == ROLE.ADMIN then drops_admin = true end
    remove[rid] = true
  end
  if drops_admin and active_admins(p, k.users, remove) == 0 then
    return nil, {'remove-last-admin'}
  end
  local blobs = {}
  local i = first
  while i < #pairs_flat do
    local uid = pairs_flat[i]
    local u = redis.call('HMGET', K.user(p, uid), 'state', 'role')
    local st = u[1]
    if not st then return nil, {'blob-unknown-user', uid} end
    if remove[uid] then return nil, {'blob-inactive-user', uid, STATE.REMOVED} end
    if st ~= STATE.ACTIVE then return nil, {'blob-inactive-user', uid, st} end
    if u[2] == ROLE.AUDITOR then return nil, {'blob-auditor', uid} end
    blobs[uid] = pairs_flat[i + 1]
    i = i + 2
  end
  local missing = {'missing'}
  for _, uid in ipairs(redis.call('SMEMBERS', k.users)) do
    if (not remove[uid]) and (not blobs[uid]) then
      local u = redis.call('HMGET', K.user(p, uid), 'state', 'role')
      if u[1] == STATE.ACTIVE and u[2] ~= ROLE.AUDITOR then missing[#missing + 1] = uid end
    end
  end
  if #missing > 1 then return nil, missing end
  return {remove = remove, blobs = blobs}, nil
end

-- Writes a checked plan: the old active version decrypt-only, the new one active, the
-- blobs, the removed users' blobs and keys gone. Returns the previous active id or ''.
local function version_apply(p, k, vid, created_at, created_by, reason, plan)
  local old = redis.call('GET', k.active)
  if old then redis.call('HSET', K.version(p, old), 'status', STATUS.DECRYPT_ONLY) end
  redis.call('HSET', k.version, 'id', vid, 'status', STATUS.ACTIVE, 'created_at', created_at,
             'created_by', created_by, 'reason', reason)
  redis.call('RPUSH', k.versions, vid)
  redis.call('SET', k.active, vid)
  local holders = {}
  for uid, blob in pairs(plan.blobs) do
    redis.call('HSET', K.user_blobs(p, uid), vid, created_at .. '|' .. blob)
    holders[#holders + 1] = uid
    if #holders == 1000 then  -- one SADD per thousand holders, not one each
      redis.call('SADD', k.version_blobs, unpack(holders))
      holders = {}
    end
  end
  if #holders > 0 then redis.call('SADD', k.version_blobs, unpack(holders)) end
  for uid, _ in pairs(plan.remove) do
    redis.call('HSET', K.user(p, uid), 'state', STATE.REMOVED, 'removed_at', created_at)
    for _, v in ipairs(redis.call('HKEYS', K.user_blobs(p, uid))) do
      redis.call('SREM', K.version_blobs(p, v), uid)
    end
    redis.call('DEL', K.user_blobs(p, uid))
    for _, kid in ipairs(redis.call('SMEMBERS', K.user_keys(p, uid))) do
      redis.call('HSET', K.api_key(p, kid), 'revoked', '1', 'revoked_at', created_at)
    end
  end
  return old or ''
end
