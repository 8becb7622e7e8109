-- Helper: the audit record of a write, appended by the same script as the write.
-- The caller adds three KEYS at the end (audit stream, audit head, audit turn) and, at the
-- end of ARGV: the expected chain head ("" = empty chain), the attempt's turn token, the
-- outcome the records were made for, the hash of the last record, the records' field/value pairs (18 values per record, chained
-- in Python: Lua has no SHA-256), and last the number of these values. A count of 0 means
-- no record (an unaudited caller) and no extra KEYS. take_audit() strips them, so the
-- script reads its own KEYS and ARGV as if there were none.
-- A script calls audit_check(outcome) after its own checks and before any write: it
-- refuses when a chain key has the wrong type, when the head moved (compare-and-append),
-- or when the outcome is not the one hashed; then audit_append() before the write, so a
-- failed append leaves no write behind.
-- Fairness: the first append that finds the head moved claims the turn (its token, for
-- TURN_MS); until it appends or the claim expires every other append is refused with
-- 'audit-turn' and waits, so a writer that keeps winning cannot starve another.
local function take_audit(keys, argv)
  local n = tonumber(argv[#argv])
  local a = {on = n > 0}
  local own_argv = {}
  for i = 1, #argv - 1 - n do own_argv[i] = argv[i] end
  local own_keys = {}
  local nk = #keys
  if a.on then
    nk = nk - 3
    a.stream = keys[nk + 1]
    a.head_key = keys[nk + 2]
    a.turn_key = keys[nk + 3]
    local base = #argv - 1 - n
    a.head = argv[base + 1]
    a.token = argv[base + 2]
    a.outcome = argv[base + 3]
    a.last = argv[base + 4]
    a.first = base + 5
    a.stop = #argv - 1
    a.argv = argv
  end
  for i = 1, nk do own_keys[i] = keys[i] end
  return a, own_keys, own_argv
end

local AUDIT, KEYS, ARGV = take_audit(KEYS, ARGV)
local TURN_MS = 250

local function audit_check(outcome)
  if not AUDIT.on then return nil end
  local ts = redis.call('TYPE', AUDIT.stream)['ok']
  local th = redis.call('TYPE', AUDIT.head_key)['ok']
  local tt = redis.call('TYPE', AUDIT.turn_key)['ok']
  if (ts ~= 'stream' and ts ~= 'none') or (th ~= 'string' and th ~= 'none')
      or (tt ~= 'string' and tt ~= 'none') then
    return {'audit-broken'}
  end
  local head = redis.call('GET', AUDIT.head_key) or ''
  local turn = redis.call('GET', AUDIT.turn_key)
  if turn and turn ~= AUDIT.token then return {'audit-turn', head} end
  if head ~= AUDIT.head then
    if not turn then redis.call('SET', AUDIT.turn_key, AUDIT.token, 'PX', TURN_MS) end
    return {'audit-head', head}
  end
  if outcome ~= AUDIT.outcome then return {'audit-outcome', outcome} end
  return nil
end

local function audit_append()
  if not AUDIT.on then return end
  for i = AUDIT.first, AUDIT.stop, 18 do
    local rec = {}
    for j = i, i + 17 do rec[#rec + 1] = AUDIT.argv[j] end
    redis.call('XADD', AUDIT.stream, '*', unpack(rec))
  end
  redis.call('SET', AUDIT.head_key, AUDIT.last)
  if redis.call('GET', AUDIT.turn_key) == AUDIT.token then redis.call('DEL', AUDIT.turn_key) end
end
