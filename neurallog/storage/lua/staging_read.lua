-- KEYS[1] staging hash, KEYS[2] staging blobs hash (KEYS[3], the staged id, unused).
-- -> {} when there is no such staging, else {kind, reason, remove, created_by,
--    expires_at, blobs staged, staged user ids...}
local m = redis.call('HMGET', KEYS[1], 'kind', 'reason', 'remove', 'created_by', 'expires_at')
if not m[1] then return {} end
local out = {m[1], m[2], m[3], m[4], m[5], redis.call('HLEN', KEYS[2])}
for _, uid in ipairs(redis.call('HKEYS', KEYS[2])) do out[#out + 1] = uid end
return out
