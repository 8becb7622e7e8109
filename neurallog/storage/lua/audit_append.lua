-- KEYS[1] audit stream, KEYS[2] audit head, KEYS[3] audit turn.  ARGV[1] expected head
-- ("" = empty chain), ARGV[2] the attempt's turn token, ARGV[3] the hash of the last new
-- record, ARGV[4..] the records' field/value pairs, 18 values (9 fields) per record, in
-- chain order.
-- Compare-and-append of records that go with no write (denials, reads): the hash chain is
-- computed in Python (Lua has no SHA-256), the script only appends when nobody appended
-- since; a batch is all or nothing. The first append that finds the head moved claims the
-- turn (as audit_chain.lua does), so a busy writer cannot starve another.
-- -> {1, stream id, ...} | {0, current head} | {2, current head} (another append's turn)
local TURN_MS = 250
local head = redis.call('GET', KEYS[2]) or ''
local turn = redis.call('GET', KEYS[3])
if turn and turn ~= ARGV[2] then return {2, head} end
if head ~= ARGV[1] then
  if not turn then redis.call('SET', KEYS[3], ARGV[2], 'PX', TURN_MS) end
  return {0, head}
end
local ids = {1}
for i = 4, #ARGV, 18 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + 17))
end
redis.call('SET', KEYS[2], ARGV[3])
if turn then redis.call('DEL', KEYS[3]) end
return ids
