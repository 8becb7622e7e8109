-- KEYS[1] stream, KEYS[2] entry-id zset, KEYS[3] retention hash, KEYS[4] active version,
-- KEYS[5] catalogue hash, KEYS[6] catalogue index and KEYS[7] stream set of the entries'
-- version (the stream id joins it: destroying the version counts what it still holds).
-- ARGV[1] now (ms), ARGV[2] n, then n triples (entry id, version id, envelope), then the
-- stream id and its sealed name ("" = none): kept only if the stream has no record yet.
-- -> {'ok', duplicates, {seq...}} | {'version-inactive', version id}
local active = redis.call('GET', KEYS[4])
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local v = ARGV[4 + i * 3]
  if v ~= active then return {'version-inactive', v} end
end
-- One ZMSCORE for the known ids and one variadic ZADD at the end (not a round of ZSCORE
-- and ZADD per entry); ``seen`` catches an id repeated inside this batch.
local ids = {}
for i = 0, n - 1 do ids[i + 1] = ARGV[3 + i * 3] end
local known = redis.call('ZMSCORE', KEYS[2], unpack(ids))
local seen = {}
local added = {}
local seqs = {}
local dups = 0
for i = 0, n - 1 do
  local id = ids[i + 1]
  if known[i + 1] or seen[id] then
    dups = dups + 1
  else
    seen[id] = true
    local seq = redis.call('XADD', KEYS[1], '*', 'id', id, 'v', ARGV[4 + i * 3],
                           'e', ARGV[5 + i * 3])
    added[#added + 1] = string.match(seq, '^(%d+)')
    added[#added + 1] = id
    seqs[#seqs + 1] = seq
  end
end
if #added > 0 then
  redis.call('ZADD', KEYS[2], unpack(added))
  redis.call('SADD', KEYS[7], ARGV[3 + n * 3])
end
local sealed = ARGV[4 + n * 3]
if sealed ~= '' and redis.call('HSETNX', KEYS[5], ARGV[3 + n * 3], sealed) == 1 then
  redis.call('ZADD', KEYS[6], 0, ARGV[3 + n * 3])
end
local r = redis.call('HMGET', KEYS[3], 'max_entries', 'max_age_seconds')
trim(KEYS[1], KEYS[2], r[1], r[2], ARGV[1])
return {'ok', dups, seqs}
