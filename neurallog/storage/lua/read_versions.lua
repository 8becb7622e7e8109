-- KEYS[1] versions list.  ARGV[1] tenant prefix.
-- -> {{id, status, created_at, created_by, reason, blob_count}, ...} oldest first
local out = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local row = version_row(ARGV[1], id)
  if row then out[#out + 1] = row end
end
return out
