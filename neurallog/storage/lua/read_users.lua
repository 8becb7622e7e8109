-- KEYS[1] users set.  ARGV[1] tenant prefix, ARGV[2..] user ids (none = every user).
-- -> {{user_id, role, state, public_key, created_at, {version ids}}, ...}
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
  local u = redis.call('HMGET', K.user(p, id), 'role', 'state', 'public_key', 'created_at')
  if u[1] then
    local vs = redis.call('HKEYS', K.user_blobs(p, id))
    out[#out + 1] = {id, u[1], u[2], u[3], u[4], vs}
  end
end
return out
