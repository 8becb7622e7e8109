-- KEYS[1..n] keys to delete (one stream, its id set, its retention). Audited.
-- ARGV[1] the tenant's key prefix, ARGV[2] the stream id: its catalogue record is removed
-- from every version (the server does not know which version a stream belongs to).
-- -> {'ok'} | an audit refusal
local err = audit_check('')
if err then return err end
audit_append()
redis.call('DEL', unpack(KEYS))
for _, v in ipairs(redis.call('LRANGE', K.versions(ARGV[1]), 0, -1)) do
  if redis.call('HDEL', K.log_catalogue(ARGV[1], v), ARGV[2]) == 1 then
    redis.call('ZREM', K.log_catalogue_index(ARGV[1], v), ARGV[2])
  end
end
return {'ok'}
