-- KEYS[1] audit stream, KEYS[2] audit head, KEYS[3] verification checkpoint.
-- One consistent view for verify_chain (appends are atomic scripts, so the head always
-- matches the newest record unless records were deleted at the end).
-- -> {head or '', XLEN, newest stream id or '', checkpoint seq, hash, count ('' when none),
--     the checkpoint record's field/value list or false}
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
