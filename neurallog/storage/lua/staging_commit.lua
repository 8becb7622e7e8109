-- KEYS[1] versions list, KEYS[2] active version, KEYS[3] users set, KEYS[4] new version
-- hash, KEYS[5] new version's blob set, KEYS[6] staging hash, KEYS[7] staging blobs hash,
-- KEYS[8] the staged version id.
-- ARGV[1] tenant prefix, [2] version id, [3] created_at, [4] created_by, [5] the kind and
-- [6] the removals (one per line) the caller's link was checked against.
-- Audited. What create_version.lua does, with the staged blobs (new_version.lua): checks
-- everything, then the chain and the audit head, then writes the version, moves the blobs
-- to the users' blob hashes and deletes the staging. A refusal changes nothing (the
-- staging stays, so missing users can be added and the commit sent again).
-- -> {'ok', previous active or ''} | {'staging-not-found'} | {'staging-changed'}
--    | any refusal of create_version.lua
local p = ARGV[1]
local m = redis.call('HMGET', KEYS[6], 'kind', 'reason', 'remove')
if not m[1] then return {'staging-not-found'} end
if m[1] ~= ARGV[5] or m[3] ~= ARGV[6] then return {'staging-changed'} end
local remove_ids = {}
for uid in string.gmatch(m[3], '[^\n]+') do remove_ids[#remove_ids + 1] = uid end
local k = {versions = KEYS[1], active = KEYS[2], users = KEYS[3], version = KEYS[4],
           version_blobs = KEYS[5]}
local staged = redis.call('HGETALL', KEYS[7])
local plan, refusal = version_plan(p, k, ARGV[2], ARGV[4], remove_ids, staged, 1)
if refusal then return refusal end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
local old = version_apply(p, k, ARGV[2], ARGV[3], ARGV[4], m[2], plan)
redis.call('DEL', KEYS[6], KEYS[7], KEYS[8])
return {'ok', old}
