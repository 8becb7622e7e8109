-- KEYS[1] users set, KEYS[2] users order (sorted set, every score 0, members
-- '<created_at> <user_id>').  ARGV[1] tenant prefix, ARGV[2] the exclusive position after
-- which the page starts ("" = the first page), ARGV[3] page size.
-- -> {{user as a JSON object, ...}, next position or ""}: each row is encoded here (the
--    route splices the rows into its answer), so a page of 1,000 users costs the server no
--    per-user work outside Redis. The shape of neurallog.wire.models.User: user_id, role,
--    state, public_key, created_at, versions (the ids of the versions of its blobs, sorted).
-- A tenant made before the order existed gets it here, from the users set (one script: no
-- enrolment can slip between the backfill and the read). Users never leave the set and
-- each enrolment adds to both, so an order smaller than the set misses old users only;
-- ZADD of a member already there changes nothing.
local p = ARGV[1]
if redis.call('ZCARD', KEYS[2]) < redis.call('SCARD', KEYS[1]) then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local created = redis.call('HGET', K.user(p, id), 'created_at')
    if created then redis.call('ZADD', KEYS[2], 0, created .. ' ' .. id) end
  end
end
local size = tonumber(ARGV[3])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local found = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', 0, size + 1)
local following = ''
if #found > size then following = found[size] end
local out = {}
for i = 1, math.min(#found, size) do
  local id = string.sub(found[i], string.find(found[i], ' ', 1, true) + 1)
  local u = redis.call('HMGET', K.user(p, id), 'role', 'state', 'public_key', 'created_at')
  if u[1] then
    local vs = redis.call('HKEYS', K.user_blobs(p, id))
    table.sort(vs)
    for j = 1, #vs do vs[j] = cjson.encode(vs[j]) end
    out[#out + 1] = '{"user_id":' .. cjson.encode(id) .. ',"role":' .. cjson.encode(u[1])
      .. ',"state":' .. cjson.encode(u[2]) .. ',"public_key":' .. cjson.encode(u[3])
      .. ',"created_at":' .. cjson.encode(u[4]) .. ',"versions":['
      .. table.concat(vs, ',') .. ']}'
  end
end
return {out, following}
