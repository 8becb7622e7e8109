-- KEYS[1] versions list, KEYS[2] active version, KEYS[3] users set, KEYS[4] new version
-- hash, KEYS[5] new version's blob set.
-- ARGV[1] tenant prefix, [2] version id, [3] created_at, [4] created_by, [5] reason,
-- [6] n = number of users to remove, [7..6+n] their ids, [7+n] the blobs packed as
-- user_id, blob, user_id, blob ... each followed by a newline (one argument, so the server
-- does not encode two per blob), then the chain's arguments.
-- Audited. Checks everything first (new_version.lua), then applies everything: rotation
-- is all or nothing.
-- -> {'ok', previous active or ''} | {'version-exists'} | {'bad-remove', user} |
--    {'blob-unknown-user', user} | {'blob-inactive-user', user, state} |
--    {'blob-auditor', user} | {'missing', user...} | {'remove-self'} | {'remove-last-admin'}
--    | a chain or audit refusal
local p = ARGV[1]
local k = {versions = KEYS[1], active = KEYS[2], users = KEYS[3], version = KEYS[4],
           version_blobs = KEYS[5]}
local n = tonumber(ARGV[6])
local remove_ids = {}
for i = 7, 6 + n do remove_ids[#remove_ids + 1] = ARGV[i] end
local pairs_flat = {}
for item in string.gmatch(ARGV[7 + n], '([^\n]*)\n') do pairs_flat[#pairs_flat + 1] = item end
local plan, refusal = version_plan(p, k, ARGV[2], ARGV[4], remove_ids, pairs_flat, 1)
if refusal then return refusal end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
return {'ok', version_apply(p, k, ARGV[2], ARGV[3], ARGV[4], ARGV[5], plan)}
