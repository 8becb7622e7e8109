-- KEYS[1] version hash, KEYS[2] active version, KEYS[3] the version's stream set,
-- KEYS[4] its blob set, KEYS[5] users set, KEYS[6] its catalogue hash, KEYS[7] its
-- catalogue index.  ARGV[1] tenant prefix, ARGV[2] version id, ARGV[3] destroyed_at.
-- Audited, chained (a version.status link with status destroyed).
-- Refuses while any stream of the version's stream set still holds an entry (retention
-- trims and log deletion empty them; the caller first adds the streams written before the
-- set existed, see neurallog/storage/versions.py), and for the active version. Then, in
-- this one step: every user's blob of the version, its blob set, stream set and catalogue
-- deleted; status destroyed (terminal: set_version_status.lua leads nowhere from it).
-- -> {'ok', previous status} | {'version-not-found'} | {'version-destroyed'}
--    | {'version-active'} | {'entries-remain', entries, streams} | a chain or audit refusal
local p, vid = ARGV[1], ARGV[2]
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'version-not-found'} end
if cur == STATUS.DESTROYED then return {'version-destroyed'} end
local destroyable = false
for _, s in ipairs(rawget(STATUS_CHANGES, cur) or {}) do
  if s == STATUS.DESTROYED then destroyable = true end
end
if not destroyable or redis.call('GET', KEYS[2]) == vid then return {'version-active'} end
local entries, streams = 0, 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local key = K.log_stream(p, sid)
  if redis.call('TYPE', key)['ok'] == 'stream' then
    local n = redis.call('XLEN', key)
    if n > 0 then
      entries = entries + n
      streams = streams + 1
    end
  end
end
if entries > 0 then return {'entries-remain', entries, streams} end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
-- every user, not only the blob set's members: a blob the set missed is deleted too
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  redis.call('HDEL', K.user_blobs(p, uid), vid)
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[6], KEYS[7])
redis.call('HSET', KEYS[1], 'status', STATUS.DESTROYED, 'destroyed_at', ARGV[3])
return {'ok', cur}
