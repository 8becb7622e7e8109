-- Helper: one version's row {id, status, created_at, created_by, reason, blob_count}, or nil.
local function version_row(p, id)
  local v = redis.call('HMGET', K.version(p, id), 'status', 'created_at', 'created_by',
                       'reason')
  if not v[1] then return nil end
  local n = redis.call('SCARD', K.version_blobs(p, id))
  return {id, v[1], v[2] or '', v[3] or '', v[4] or '', n}
end
