-- KEYS[1] audit stream, KEYS[2] audit head.  ARGV[1] expected head ("" = empty chain),
-- ARGV[2] the hash of the last new record, ARGV[3..] the records' field/value pairs, 18
-- values (9 fields) per record, in chain order.
-- Compare-and-append of records that go with no write (denials, reads): the hash chain is
-- computed in Python (Lua has no SHA-256), the script only appends when nobody appended
-- since; a batch is all or nothing.
-- -> {1, stream id, ...} | {0, current head}
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then return {0, head} end
local ids = {1}
for i = 3, #ARGV, 18 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + 17))
end
redis.call('SET', KEYS[2], ARGV[2])
return ids
