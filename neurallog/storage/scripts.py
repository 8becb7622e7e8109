"""Lua scripts, one constant each, with a KEYS/ARGV header.

Scripts that must reach keys only known at run time (a user's blob hash while walking the
tenant's user set) build them from ``prefix`` (ARGV) plus the suffixes of
:mod:`neurallog.storage.keyspace`; every such key shares the tenant's hash tag, so the
script stays on one Redis Cluster slot. Numbers cross into Lua as strings and are
formatted back with ``%d`` (Lua's ``tostring`` would print ``1.7e+12``).

Replies start with a status word: ``ok`` or an error code the caller maps to a problem.
"""

from __future__ import annotations

_VERSION_ROW = """
local function version_row(p, id)
  local v = redis.call('HMGET', p .. 'version:' .. id, 'status', 'created_at', 'created_by',
                       'reason')
  if not v[1] then return nil end
  local n = redis.call('SCARD', p .. 'version:' .. id .. ':blobs')
  return {id, v[1], v[2] or '', v[3] or '', v[4] or '', n}
end
"""

# KEYS[1] key hash, KEYS[2] tenant hash.  ARGV[1] tenant prefix, ARGV[2] fused read:
# "" (none), "blobs" (the caller's blob hash) or "active" (the active version row), so
# that the hottest routes cost one round trip. The caller discards the data unless the
# credential checks out. No failure counter is read here: the token is judged first and
# only failures are counted (a right token is never refused for someone else's failures).
# -> {'no-tenant'} | {'no-key'}
#    | {'ok', user_id, token_hash, expires_at, revoked, role, state, data}
AUTHENTICATE = (
    _VERSION_ROW
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no-tenant'} end
local k = redis.call('HMGET', KEYS[1], 'user_id', 'token_hash', 'expires_at', 'revoked')
if not k[1] then return {'no-key'} end
local p = ARGV[1]
local u = redis.call('HMGET', p .. 'user:' .. k[1], 'role', 'state')
local data = false
if ARGV[2] == 'blobs' then
  data = redis.call('HGETALL', p .. 'user:' .. k[1] .. ':blobs')
elseif ARGV[2] == 'active' then
  local id = redis.call('GET', p .. 'active')
  if id then data = version_row(p, id) or false end
end
return {'ok', k[1], k[2] or '', k[3] or '', k[4] or '0', u[1] or '', u[2] or '', data}
"""
)

# KEYS[1..n] failure counters.  ARGV[1] window seconds, ARGV[1 + i] the limit of KEYS[i]
# (0 = count only).
# -> {1 over a limit | 0, seconds until the longest exceeded counter expires}
COUNT_FAILURE = """
local over = 0
local ttl = 0
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  local limit = tonumber(ARGV[i + 1] or '0')
  if limit > 0 and n > limit then
    over = 1
    ttl = math.max(ttl, redis.call('TTL', KEYS[i]))
  end
end
return {over, ttl}
"""

# KEYS[1] tenant hash.  ARGV[1] tenant id, ARGV[2] created_at, ARGV[3] bootstrap token hash.
# -> 1 created | 0 exists
CREATE_TENANT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'tenant_id', ARGV[1], 'created_at', ARGV[2],
           'bootstrap_hash', ARGV[3])
return 1
"""

_NEW_USER = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {'user-exists'} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {'key-exists'} end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'user_id', ARGV[1], 'role', ARGV[2], 'state', 'active',
           'public_key', ARGV[3], 'created_at', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('HSET', KEYS[4], 'key_id', ARGV[5], 'user_id', ARGV[1], 'token_hash', ARGV[6],
           'slot', ARGV[7], 'label', ARGV[8], 'created_at', ARGV[4], 'expires_at', ARGV[9],
           'revoked', '0')
"""

# KEYS[1] users set, KEYS[2] user hash, KEYS[3] user keys set, KEYS[4] key hash,
# KEYS[5] tenant hash.  ARGV[1] user_id, [2] role, [3] public_key, [4] created_at,
# [5] key_id, [6] token_hash, [7] slot, [8] label, [9] expires_at ("" = never).
# -> {'ok'} | {'no-tenant'} | {'user-exists'} | {'key-exists'}
CREATE_USER = (
    """
if redis.call('EXISTS', KEYS[5]) == 0 then return {'no-tenant'} end
"""
    + _NEW_USER
    + """
return {'ok'}
"""
)

# As CREATE_USER, plus ARGV[10] bootstrap token hash, ARGV[11] profile JSON.
# Consumes the bootstrap token and registers the profile and first admin in one step.
# -> {'ok'} | {'bad-token'} | {'user-exists'} | {'key-exists'}
BOOTSTRAP = (
    """
local h = redis.call('HGET', KEYS[5], 'bootstrap_hash')
if (not h) or h ~= ARGV[10] then return {'bad-token'} end
"""
    + _NEW_USER
    + """
redis.call('HDEL', KEYS[5], 'bootstrap_hash')
redis.call('HSET', KEYS[5], 'profile', ARGV[11], 'bootstrapped_at', ARGV[4])
return {'ok'}
"""
)

# Lua helper: the number of active admins, not counting the users in ``skip`` (a set).
_ACTIVE_ADMINS = """
local function active_admins(p, users_set, skip)
  local n = 0
  for _, uid in ipairs(redis.call('SMEMBERS', users_set)) do
    if not skip[uid] then
      local u = redis.call('HMGET', p .. 'user:' .. uid, 'role', 'state')
      if u[1] == 'admin' and u[2] == 'active' then n = n + 1 end
    end
  end
  return n
end
"""

# KEYS[1] user hash, KEYS[2] users set, KEYS[3] caller's user hash.  ARGV[1] disabled_at,
# ARGV[2] tenant prefix, ARGV[3] user id, ARGV[4] caller's user id.
# Nobody disables itself, the caller must still be active (a concurrent disable of the
# caller wins), and the last active admin stays: checked and applied in one step, so two
# admins disabling each other at once cannot both succeed.
# -> {'ok'} | {'not-found'} | {'removed'} | {'self'} | {'caller-inactive'} | {'last-admin'}
DISABLE_USER = (
    _ACTIVE_ADMINS
    + """
local u = redis.call('HMGET', KEYS[1], 'state', 'role')
local st = u[1]
if not st then return {'not-found'} end
if st == 'removed' then return {'removed'} end
if ARGV[3] == ARGV[4] then return {'self'} end
if redis.call('HGET', KEYS[3], 'state') ~= 'active' then return {'caller-inactive'} end
if u[2] == 'admin' and st == 'active'
   and active_admins(ARGV[2], KEYS[2], {[ARGV[3]] = true}) == 0 then
  return {'last-admin'}
end
redis.call('HSET', KEYS[1], 'state', 'disabled', 'disabled_at', ARGV[1])
return {'ok'}
"""
)

# KEYS[1] user hash, KEYS[2] user keys set, KEYS[3] key hash, KEYS[4] (only with a parent)
# the parent key hash.  ARGV[1] key_id, [2] user_id, [3] token_hash, [4] slot, [5] label,
# [6] created_at, [7] expires_at, [8] parent key id ("" = a root key).
# A key a user mints for itself records the minting key as its parent, which must still be
# a live key of the same user at this instant (a revocation racing the mint wins).
# -> {'ok'} | {'not-found'} | {'inactive', state} | {'key-exists'} | {'parent-revoked'}
ADD_KEY = """
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'not-found'} end
if st ~= 'active' then return {'inactive', st} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'key-exists'} end
if ARGV[8] ~= '' then
  local pk = redis.call('HMGET', KEYS[4], 'user_id', 'revoked')
  if pk[1] ~= ARGV[2] or pk[2] == '1' then return {'parent-revoked'} end
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'key_id', ARGV[1], 'user_id', ARGV[2], 'token_hash', ARGV[3],
           'slot', ARGV[4], 'label', ARGV[5], 'created_at', ARGV[6], 'expires_at', ARGV[7],
           'revoked', '0')
if ARGV[8] ~= '' then redis.call('HSET', KEYS[3], 'parent', ARGV[8]) end
return {'ok'}
"""

# KEYS[1] key hash, KEYS[2] user keys set.  ARGV[1] user_id, ARGV[2] revoked_at,
# ARGV[3] tenant prefix, ARGV[4] key_id.
# Revokes the key and, in the same step, every key descending from it (minted by it, or by
# a key it minted...): a stolen key's offspring die with it.
# -> {'ok', label, created_at, expires_at, parent, {descendants newly revoked}} | {'not-found'}
REVOKE_KEY = """
local k = redis.call('HMGET', KEYS[1], 'user_id', 'label', 'created_at', 'expires_at',
                     'parent')
if (not k[1]) or k[1] ~= ARGV[1] then return {'not-found'} end
redis.call('HSET', KEYS[1], 'revoked', '1', 'revoked_at', ARGV[2])
local children = {}
for _, kid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local par = redis.call('HGET', ARGV[3] .. 'key:' .. kid, 'parent')
  if par then
    children[par] = children[par] or {}
    table.insert(children[par], kid)
  end
end
local queue = {ARGV[4]}
local out = {}
local i = 1
while i <= #queue do
  for _, kid in ipairs(children[queue[i]] or {}) do
    queue[#queue + 1] = kid
    local kk = ARGV[3] .. 'key:' .. kid
    if redis.call('HGET', kk, 'revoked') ~= '1' then
      redis.call('HSET', kk, 'revoked', '1', 'revoked_at', ARGV[2])
      out[#out + 1] = kid
    end
  end
  i = i + 1
end
return {'ok', k[2] or '', k[3] or '', k[4] or '', k[5] or '', out}
"""

# KEYS[1] users set.  ARGV[1] tenant prefix, ARGV[2..] user ids (none = every user).
# -> {{user_id, role, state, public_key, created_at, {version ids}}, ...}
READ_USERS = """
local p = ARGV[1]
local ids
if #ARGV > 1 then
  ids = {}
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('SMEMBERS', KEYS[1])
end
local out = {}
for _, id in ipairs(ids) do
  local u = redis.call('HMGET', p .. 'user:' .. id, 'role', 'state', 'public_key', 'created_at')
  if u[1] then
    local vs = redis.call('HKEYS', p .. 'user:' .. id .. ':blobs')
    out[#out + 1] = {id, u[1], u[2], u[3], u[4], vs}
  end
end
return out
"""

# KEYS[1] user hash, KEYS[2] user keys set.  ARGV[1] tenant prefix.
# -> false when the user does not exist, else
#    {{key_id, label, created_at, expires_at, revoked, parent}, ...}
READ_KEYS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local out = {}
for _, kid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local k = redis.call('HMGET', ARGV[1] .. 'key:' .. kid, 'label', 'created_at',
                      'expires_at', 'revoked', 'parent')
  out[#out + 1] = {kid, k[1] or '', k[2] or '', k[3] or '', k[4] or '0', k[5] or ''}
end
return out
"""


# KEYS[1] versions list.  ARGV[1] tenant prefix.
# -> {{id, status, created_at, created_by, reason, blob_count}, ...} oldest first
READ_VERSIONS = (
    _VERSION_ROW
    + """
local out = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local row = version_row(ARGV[1], id)
  if row then out[#out + 1] = row end
end
return out
"""
)

# KEYS[1] active version string.  ARGV[1] tenant prefix, ARGV[2] version id or "".
# -> the row of ARGV[2] (or of the active version when ARGV[2] is ""), or false.
READ_VERSION = (
    _VERSION_ROW
    + """
local id = ARGV[2]
if id == '' then id = redis.call('GET', KEYS[1]) end
if not id then return false end
return version_row(ARGV[1], id) or false
"""
)

# KEYS[1] versions list, KEYS[2] active version, KEYS[3] users set, KEYS[4] new version
# hash, KEYS[5] new version's blob set.
# ARGV[1] tenant prefix, [2] version id, [3] created_at, [4] created_by, [5] reason,
# [6] n = number of users to remove, [7..6+n] their ids, then (user_id, blob) pairs.
# Checks everything first, then applies everything: rotation is all or nothing. The caller
# (created_by) may not remove itself, and a removal may not leave no active admin.
# Auditors read no logs: they never get a blob and coverage counts admins and members only.
# -> {'ok', previous active or ''} | {'exists'} | {'bad-remove', user} |
#    {'blob-unknown-user', user} | {'blob-inactive-user', user, state} |
#    {'blob-auditor', user} | {'missing', user...} | {'remove-self'} | {'last-admin'}
CREATE_VERSION = (
    _ACTIVE_ADMINS
    + """
local p = ARGV[1]
local vid = ARGV[2]
if redis.call('EXISTS', KEYS[4]) == 1 then return {'exists'} end
local n = tonumber(ARGV[6])
local remove = {}
local drops_admin = false
for i = 7, 6 + n do
  local r = redis.call('HMGET', p .. 'user:' .. ARGV[i], 'state', 'role')
  local st = r[1]
  if (not st) or st == 'removed' then return {'bad-remove', ARGV[i]} end
  if ARGV[i] == ARGV[4] then return {'remove-self'} end
  if st == 'active' and r[2] == 'admin' then drops_admin = true end
  remove[ARGV[i]] = true
end
if drops_admin and active_admins(p, KEYS[3], remove) == 0 then return {'last-admin'} end
local blobs = {}
local i = 7 + n
while i < #ARGV do
  local uid = ARGV[i]
  local u = redis.call('HMGET', p .. 'user:' .. uid, 'state', 'role')
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
    local u = redis.call('HMGET', p .. 'user:' .. uid, 'state', 'role')
    if u[1] == 'active' and u[2] ~= 'auditor' then missing[#missing + 1] = uid end
  end
end
if #missing > 1 then return missing end
local old = redis.call('GET', KEYS[2])
if old then redis.call('HSET', p .. 'version:' .. old, 'status', 'decrypt-only') end
redis.call('HSET', KEYS[4], 'id', vid, 'status', 'active', 'created_at', ARGV[3],
           'created_by', ARGV[4], 'reason', ARGV[5])
redis.call('RPUSH', KEYS[1], vid)
redis.call('SET', KEYS[2], vid)
for uid, blob in pairs(blobs) do
  redis.call('HSET', p .. 'user:' .. uid .. ':blobs', vid, ARGV[3] .. '|' .. blob)
  redis.call('SADD', KEYS[5], uid)
end
for uid, _ in pairs(remove) do
  local u = p .. 'user:' .. uid
  redis.call('HSET', u, 'state', 'removed', 'removed_at', ARGV[3])
  for _, v in ipairs(redis.call('HKEYS', u .. ':blobs')) do
    redis.call('SREM', p .. 'version:' .. v .. ':blobs', uid)
  end
  redis.call('DEL', u .. ':blobs')
  for _, kid in ipairs(redis.call('SMEMBERS', u .. ':keys')) do
    redis.call('HSET', p .. 'key:' .. kid, 'revoked', '1', 'revoked_at', ARGV[3])
  end
end
return {'ok', old or ''}
"""
)

# KEYS[1] version hash.  ARGV[1] new status.
# -> {'ok', previous} | {'not-found'} | {'invalid', current, allowed...}
SET_VERSION_STATUS = """
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'not-found'} end
if cur == ARGV[1] then return {'ok', cur} end
local legal = {['active'] = {}, ['decrypt-only'] = {'deprecated'},
               ['deprecated'] = {'decrypt-only'}}
local allowed = legal[cur] or {}
for _, s in ipairs(allowed) do
  if s == ARGV[1] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    return {'ok', cur}
  end
end
local out = {'invalid', cur}
for _, s in ipairs(allowed) do out[#out + 1] = s end
return out
"""

# KEYS[1] version hash, KEYS[2] user hash, KEYS[3] user blobs hash, KEYS[4] version blobs
# set.  ARGV[1] version id, [2] user id, [3] created_at, [4] blob.
# -> {'ok', 1 created | 0 replaced} | {'no-version'} | {'no-user'} | {'deprecated'}
#    | {'inactive-user', state} | {'auditor'}
PUT_BLOB = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'no-version'} end
local u = redis.call('HMGET', KEYS[2], 'state', 'role')
local us = u[1]
if not us then return {'no-user'} end
if u[2] == 'auditor' then return {'auditor'} end
if st == 'deprecated' then return {'deprecated'} end
if us ~= 'active' then return {'inactive-user', us} end
local created = redis.call('HSET', KEYS[3], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
return {'ok', created}
"""

# KEYS[1] user blobs hash, KEYS[2] version blobs set.  ARGV[1] version id, ARGV[2] user id.
# -> 1 deleted | 0 absent
DELETE_BLOB = """
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return n
"""

# KEYS[1] stream, KEYS[2] entry-id zset, KEYS[3] retention hash, KEYS[4] active version.
# ARGV[1] now (ms), ARGV[2] n, then n triples (entry id, version id, envelope).
# -> {'ok', duplicates, {seq...}} | {'inactive', version id}
APPEND_ENTRIES = """
local active = redis.call('GET', KEYS[4])
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local v = ARGV[4 + i * 3]
  if v ~= active then return {'inactive', v} end
end
local seqs = {}
local dups = 0
for i = 0, n - 1 do
  local id = ARGV[3 + i * 3]
  if redis.call('ZSCORE', KEYS[2], id) then
    dups = dups + 1
  else
    local seq = redis.call('XADD', KEYS[1], '*', 'id', id, 'v', ARGV[4 + i * 3],
                           'e', ARGV[5 + i * 3])
    redis.call('ZADD', KEYS[2], string.match(seq, '^(%d+)'), id)
    seqs[#seqs + 1] = seq
  end
end
local r = redis.call('HMGET', KEYS[3], 'max_entries', 'max_age_seconds')
if r[1] then redis.call('XTRIM', KEYS[1], 'MAXLEN', r[1]) end
if r[2] then
  local minid = tonumber(ARGV[1]) - tonumber(r[2]) * 1000
  if minid < 0 then minid = 0 end
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', minid))
end
if r[1] or r[2] then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if #first == 0 then
    redis.call('DEL', KEYS[2])
  else
    local ms = string.match(first[1][1], '^(%d+)')
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ms)
  end
end
return {'ok', dups, seqs}
"""

# KEYS[1] retention hash.  ARGV[1] max_entries or "", ARGV[2] max_age_seconds or "".
SET_RETENTION = """
redis.call('DEL', KEYS[1])
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'max_entries', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'max_age_seconds', ARGV[2]) end
return 1
"""

# KEYS[1..n] keys to delete (one tenant's stream, id set, retention).
DELETE_KEYS = """
return redis.call('DEL', unpack(KEYS))
"""

# KEYS[1] audit stream, KEYS[2] audit head.  ARGV[1] expected head ("" = empty chain),
# ARGV[2] the hash of the last new record, ARGV[3..] the records' field/value pairs, 18
# values (9 fields) per record, in chain order.
# Compare-and-append: the hash chain is computed in Python (Lua has no SHA-256), the
# script only appends when nobody appended since; a batch is all or nothing.
# -> {1, stream id, ...} | {0, current head}
AUDIT_APPEND = """
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then return {0, head} end
local ids = {1}
for i = 3, #ARGV, 18 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + 17))
end
redis.call('SET', KEYS[2], ARGV[2])
return ids
"""

# KEYS[1] audit stream, KEYS[2] audit head, KEYS[3] verification checkpoint.
# One consistent view for verify_chain (appends are atomic scripts, so the head always
# matches the newest record unless records were deleted at the end).
# -> {head or '', XLEN, newest stream id or '', checkpoint seq, hash, count ('' when none),
#     the checkpoint record's field/value list or false}
AUDIT_PROBE = """
local head = redis.call('GET', KEYS[2]) or ''
local n = redis.call('XLEN', KEYS[1])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last_id = ''
if #last > 0 then last_id = last[1][1] end
local cp = redis.call('HMGET', KEYS[3], 'seq', 'hash', 'count')
local rec = false
if cp[1] then
  local r = redis.call('XRANGE', KEYS[1], cp[1], cp[1])
  if #r > 0 then rec = r[1][2] end
end
return {head, n, last_id, cp[1] or '', cp[2] or '', cp[3] or '', rec}
"""

ALL: dict[str, str] = {
    "authenticate": AUTHENTICATE,
    "count_failure": COUNT_FAILURE,
    "create_tenant": CREATE_TENANT,
    "create_user": CREATE_USER,
    "bootstrap": BOOTSTRAP,
    "disable_user": DISABLE_USER,
    "add_key": ADD_KEY,
    "revoke_key": REVOKE_KEY,
    "read_users": READ_USERS,
    "read_keys": READ_KEYS,
    "read_versions": READ_VERSIONS,
    "read_version": READ_VERSION,
    "create_version": CREATE_VERSION,
    "set_version_status": SET_VERSION_STATUS,
    "put_blob": PUT_BLOB,
    "delete_blob": DELETE_BLOB,
    "append_entries": APPEND_ENTRIES,
    "set_retention": SET_RETENTION,
    "delete_keys": DELETE_KEYS,
    "audit_append": AUDIT_APPEND,
    "audit_probe": AUDIT_PROBE,
}
"""Every script by name; :class:`neurallog.storage.store.Scripts` registers each once."""
