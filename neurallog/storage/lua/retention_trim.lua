-- Helper: apply a stream's retention now. trim(stream, ids, max_entries or nil,
-- max_age_seconds or nil, now_ms) trims the stream (count, then age) and drops the
-- idempotency ids older than its first entry (all of them when it is empty).
local function trim(stream, ids, max_entries, max_age, now_ms)
  if max_entries then redis.call('XTRIM', stream, 'MAXLEN', max_entries) end
  if max_age then
    local minid = tonumber(now_ms) - tonumber(max_age) * 1000
    if minid < 0 then minid = 0 end
    redis.call('XTRIM', stream, 'MINID', string.format('%d', minid))
  end
  if max_entries or max_age then
    local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    if #first == 0 then
      redis.call('DEL', ids)
    else
      local ms = string.match(first[1][1], '^(%d+)')
      redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. ms)
    end
  end
end
