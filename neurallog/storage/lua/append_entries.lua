-- KEYS[1] stream, KEYS[2] entry-id zset, KEYS[3] retention hash, KEYS[4] active version,
-- KEYS[5] catalogue hash, KEYS[6] catalogue index and KEYS[7] stream set of the entries'
-- version (the stream id joins it: destroying the version counts what it still holds).
-- ARGV[1] now (ms), ARGV[2] n, ARGV[3] the entries' distinct version ids in the order they
-- first appear, separated by spaces (one, from a client of this release), ARGV[4] the n
-- entries packed as <entry id (22 characters)><envelope (base64)>, separated by spaces,
-- ARGV[5] the stream id, ARGV[6] its sealed name ("" = none): kept only if the stream has
-- no record yet. Ids and base64 hold no space; the server checked both. Every version
-- passed is the active one, so each entry stores that one.
-- -> {'ok', duplicates, {seq...}} | {'version-inactive', version id}
local active = redis.call('GET', KEYS[4])
local versions = ARGV[3]
for v in string.gmatch(versions, '%S+') do
  if v ~= active then return {'version-inactive', v} end
end
local n = tonumber(ARGV[2])
local packed = ARGV[4]
local find, sub, match = string.find, string.sub, string.match
-- One pass finds each entry (its id and where its envelope starts and ends); one ZMSCORE
-- for the known ids and one variadic ZADD at the end (not a round of ZSCORE and ZADD per
-- entry); ``seen`` catches an id repeated inside this batch.
local ids, starts, stops = {}, {}, {}
local pos = 1
for i = 1, n do
  local space = find(packed, ' ', pos, true)
  local last = space and space - 1 or #packed
  ids[i] = sub(packed, pos, pos + 21)
  starts[i] = pos + 22
  stops[i] = last
  pos = last + 2
end
local known = redis.call('ZMSCORE', KEYS[2], unpack(ids))
local seen = {}
local added = {}
local seqs = {}
local dups = 0
for i = 1, n do
  local id = ids[i]
  if known[i] or seen[id] then
    dups = dups + 1
  else
    seen[id] = true
    local seq = redis.call('XADD', KEYS[1], '*', 'id', id, 'v', active,
                           'e', sub(packed, starts[i], stops[i]))
    added[#added + 1] = match(seq, '^(%d+)')
    added[#added + 1] = id
    seqs[#seqs + 1] = seq
  end
end
if #added > 0 then
  redis.call('ZADD', KEYS[2], unpack(added))
  redis.call('SADD', KEYS[7], ARGV[5])
end
local sealed = ARGV[6]
if sealed ~= '' and redis.call('HSETNX', KEYS[5], ARGV[5], sealed) == 1 then
  redis.call('ZADD', KEYS[6], 0, ARGV[5])
end
local r = redis.call('HMGET', KEYS[3], 'max_entries', 'max_age_seconds')
trim(KEYS[1], KEYS[2], r[1], r[2], ARGV[1])
return {'ok', dups, seqs}
