-- KEYS[1] source stream, KEYS[2] its entry-id zset, KEYS[3] target stream, KEYS[4] active
-- version, KEYS[5] target version's catalogue hash, KEYS[6] its catalogue index, KEYS[7] its
-- stream set, KEYS[8] the caller's blob hash, KEYS[9] the source version's hash.
-- ARGV[1] source version, ARGV[2] target version, ARGV[3] target stream id, ARGV[4] its
-- sealed name ("" = none), ARGV[5] the caller's role, ARGV[6] n, then n triples (seq, entry
-- id, envelope) in ascending seq order. Audited.
-- Moves n entries of the source stream to the target stream in this one step: each new
-- entry takes the original's seq (an explicit XADD id) and id, and the original is deleted.
-- All checks come before any write (a script is not rolled back), so a chunk moves whole
-- or not at all: an interrupted rewrap loses and duplicates nothing, and resuming takes
-- what is left. Refused when the target is not the active version, the source version is
-- unknown, destroyed or the target, a member holds a blob of only one of the two, an
-- original is gone or not of the source version (another rewrap moved it: read again),
-- or the seqs do not follow the target stream's last id.
-- -> {'ok', moved, left in the source} | {'version-inactive', v} | {'version-not-found'}
--    | {'version-destroyed'} | {'rewrap-no-access', v} | {'rewrap-moved', seq}
--    | {'rewrap-order', seq} | an audit refusal
local src, dst = ARGV[1], ARGV[2]
if redis.call('GET', KEYS[4]) ~= dst then return {'version-inactive', dst} end
local status = redis.call('HGET', KEYS[9], 'status')
if not status then return {'version-not-found'} end
if status == STATUS.DESTROYED then return {'version-destroyed'} end
if ARGV[5] ~= ROLE.ADMIN then
  for _, v in ipairs({src, dst}) do
    if redis.call('HEXISTS', KEYS[8], v) == 0 then return {'rewrap-no-access', v} end
  end
end
-- seqs are canonical decimals (the route checks them): compare by length, then text
local function after(a, b)
  local am, an = string.match(a, '^(%d+)-(%d+)$')
  local bm, bn = string.match(b, '^(%d+)-(%d+)$')
  local function gt(x, y)
    if #x ~= #y then return #x > #y end
    return x > y
  end
  if am ~= bm then return gt(am, bm) end
  return gt(an, bn)
end
local last = '0-0'
if redis.call('EXISTS', KEYS[3]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[3])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
  end
end
local n = tonumber(ARGV[6])
-- one XRANGE over the chunk's span finds a contiguous chunk (the usual case) at once;
-- an entry it does not hold is looked up alone
local have = {}
local span = redis.call('XRANGE', KEYS[1], ARGV[7], ARGV[7 + (n - 1) * 3], 'COUNT', n)
for _, row in ipairs(span) do have[row[1]] = row[2] end
for i = 0, n - 1 do
  local seq, id = ARGV[7 + i * 3], ARGV[8 + i * 3]
  local f = have[seq]
  if not f then
    local found = redis.call('XRANGE', KEYS[1], seq, seq)
    if #found == 0 then return {'rewrap-moved', seq} end
    f = found[1][2]
  end
  local fid, fv = nil, nil
  for j = 1, #f, 2 do
    if f[j] == 'id' then fid = f[j + 1] elseif f[j] == 'v' then fv = f[j + 1] end
  end
  if fid ~= id or fv ~= src then return {'rewrap-moved', seq} end
  if not after(seq, last) then return {'rewrap-order', seq} end
  last = seq
end
local err = audit_check('')
if err then return err end
audit_append()
local ids = {}
for i = 0, n - 1 do
  local seq = ARGV[7 + i * 3]
  redis.call('XADD', KEYS[3], seq, 'id', ARGV[8 + i * 3], 'v', dst, 'e', ARGV[9 + i * 3])
  redis.call('XDEL', KEYS[1], seq)
  ids[#ids + 1] = ARGV[8 + i * 3]
end
redis.call('ZREM', KEYS[2], unpack(ids))
redis.call('SADD', KEYS[7], ARGV[3])
if ARGV[4] ~= '' and redis.call('HSETNX', KEYS[5], ARGV[3], ARGV[4]) == 1 then
  redis.call('ZADD', KEYS[6], 0, ARGV[3])
end
return {'ok', n, redis.call('XLEN', KEYS[1])}
