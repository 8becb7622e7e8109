-- Helper: the checks of a new user and its first key (an error reply, or nil), and the
-- writes. KEYS[1] users set, KEYS[2] user hash, KEYS[3] user keys set, KEYS[4] key hash,
-- KEYS[6] users order (sorted set: '<created_at> <user_id>', the order of page_users.lua).
-- ARGV[1] user_id, [2] role, [3] public_key, [4] created_at, [5] key_id, [6] token_hash,
-- [7] slot, [8] label, [9] expires_at ("" = never).
local function new_user_check()
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'user-exists'} end
  if redis.call('EXISTS', KEYS[4]) == 1 then return {'key-exists'} end
  return nil
end

local function new_user_write()
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[6], 0, ARGV[4] .. ' ' .. ARGV[1])
  redis.call('HSET', KEYS[2], 'user_id', ARGV[1], 'role', ARGV[2], 'state', STATE.ACTIVE,
             'public_key', ARGV[3], 'created_at', ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[5])
  redis.call('HSET', KEYS[4], 'key_id', ARGV[5], 'user_id', ARGV[1], 'token_hash', ARGV[6],
             'slot', ARGV[7], 'label', ARGV[8], 'created_at', ARGV[4], 'expires_at', ARGV[9],
             'revoked', '0')
end
