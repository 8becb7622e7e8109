-- KEYS[1] key hash, KEYS[2] tenant hash.  ARGV[1] tenant prefix, ARGV[2] fused read:
-- "" (none), "blobs" (the caller's blob hash) or "active-version" (its row), so
-- that the hottest routes cost one round trip. The caller discards the data unless the
-- credential checks out. No failure counter is read here: the token is judged first and
-- only failures are counted (a right token is never refused for someone else's failures).
-- -> {'no-tenant'} | {'no-key'}
--    | {'ok', user_id, token_hash, expires_at, revoked, role, state, data}
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no-tenant'} end
local k = redis.call('HMGET', KEYS[1], 'user_id', 'token_hash', 'expires_at', 'revoked')
if not k[1] then return {'no-key'} end
local p = ARGV[1]
local u = redis.call('HMGET', K.user(p, k[1]), 'role', 'state')
local data = false
if ARGV[2] == 'blobs' then
  data = redis.call('HGETALL', K.user_blobs(p, k[1]))
elseif ARGV[2] == 'active-version' then
  local id = redis.call('GET', K.active_version(p))
  if id then data = version_row(p, id) or false end
end
return {'ok', k[1], k[2] or '', k[3] or '', k[4] or '0', u[1] or '', u[2] or '', data}
