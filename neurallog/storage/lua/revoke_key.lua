-- KEYS[1] key hash, KEYS[2] user keys set.  ARGV[1] user_id, ARGV[2] revoked_at,
-- ARGV[3] tenant prefix, ARGV[4] key_id. Audited; the outcome is the comma-joined sorted
-- ids of the descendants this call revokes (they are part of the record's target).
-- Revokes the key and, in the same step, every key descending from it (minted by it, or by
-- a key it minted...): a stolen key's offspring die with it.
-- -> {'ok', label, created_at, expires_at, parent, {descendants newly revoked}}
--    | {'key-not-found'} | an audit refusal
local k = redis.call('HMGET', KEYS[1], 'user_id', 'label', 'created_at', 'expires_at',
                     'parent')
if (not k[1]) or k[1] ~= ARGV[1] then return {'key-not-found'} end
local p = ARGV[3]
local children = {}
for _, kid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local par = redis.call('HGET', K.api_key(p, kid), 'parent')
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
    if redis.call('HGET', K.api_key(p, kid), 'revoked') ~= '1' then out[#out + 1] = kid end
  end
  i = i + 1
end
table.sort(out)
local err = audit_check(table.concat(out, ','))
if err then return err end
audit_append()
redis.call('HSET', KEYS[1], 'revoked', '1', 'revoked_at', ARGV[2])
for _, kid in ipairs(out) do
  redis.call('HSET', K.api_key(p, kid), 'revoked', '1', 'revoked_at', ARGV[2])
end
return {'ok', k[2] or '', k[3] or '', k[4] or '', k[5] or '', out}
