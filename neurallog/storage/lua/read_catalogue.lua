-- KEYS[1] catalogue index, KEYS[2] catalogue hash (one version).
-- ARGV[1] exclusive stream id to start after ("" = the first), ARGV[2] how many.
-- -> {'ok', {stream id, record, ...}} in stream id order
local low = '-'
if ARGV[1] ~= '' then low = '(' .. ARGV[1] end
local ids = redis.call('ZRANGE', KEYS[1], low, '+', 'BYLEX', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
if #ids > 0 then
  local records = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, id in ipairs(ids) do
    if records[i] then
      out[#out + 1] = id
      out[#out + 1] = records[i]
    end
  end
end
return {'ok', out}
