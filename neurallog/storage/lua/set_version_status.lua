-- KEYS[1] version hash.  ARGV[1] new status. 'destroyed' is reached by destroy_version.lua
-- only (it deletes the version's blobs) and is terminal: no status leads on from it. Audited (also when nothing changes: the
-- request was allowed and answered 200).
-- -> {'ok', previous} | {'version-not-found'} | {'invalid-transition', current, allowed...}
--    | a chain or audit refusal
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'version-not-found'} end
local allowed = {}
for _, s in ipairs(rawget(STATUS_CHANGES, cur) or {}) do  -- destroyed: POST .../destroy, not this route
  if s ~= STATUS.DESTROYED then allowed[#allowed + 1] = s end
end
-- setting the current status is a no-op 200, but never with a chain link: the chain's
-- state machine refuses a link that changes nothing (its clients would fail on it)
local ok = cur == ARGV[1] and CHAIN.n == 0
for _, s in ipairs(allowed) do
  if s == ARGV[1] then ok = true end
end
if not ok then
  local out = {'invalid-transition', cur}
  for _, s in ipairs(allowed) do out[#out + 1] = s end
  return out
end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
if cur ~= ARGV[1] then redis.call('HSET', KEYS[1], 'status', ARGV[1]) end
return {'ok', cur}
