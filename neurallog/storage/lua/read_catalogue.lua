-- KEYS[1] catalogue index, KEYS[2] catalogue hash (one version).
-- ARGV[1] exclusive stream id to start after ("" = the first), ARGV[2] how many, ARGV[3]
-- the tenant prefix (to count each stream's entries).
-- -> {'ok', {stream id, record, entries, ...}} in stream id order
local low = '-'
if ARGV[1] ~= '' then low = '(' .. ARGV[1] end
local ids = redis.call('ZRANGE', KEYS[1], low, '+', 'BYLEX', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
if #ids > 0 then
  local records = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, id in ipairs(ids) do
    if records[i] then
      local key = K.log_stream(ARGV[3], id)
      local n = 0
      if redis.call('TYPE', key)['ok'] == 'stream' then n = redis.call('XLEN', key) end
      out[#out + 1] = id
      out[#out + 1] = records[i]
      out[#out + 1] = n
    end
  end
end
return {'ok', out}
