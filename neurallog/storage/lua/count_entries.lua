-- KEYS[1] a version's stream set. ARGV[1] tenant prefix.
-- -> {'ok', entries, streams}: the entries its streams hold and how many hold any
-- (what destroy_version.lua refuses on; read by the metrics scrape)
local entries, streams = 0, 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = K.log_stream(ARGV[1], sid)
  if redis.call('TYPE', key)['ok'] == 'stream' then
    local n = redis.call('XLEN', key)
    if n > 0 then
      entries = entries + n
      streams = streams + 1
    end
  end
end
return {'ok', entries, streams}
