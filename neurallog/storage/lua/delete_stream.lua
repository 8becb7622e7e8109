-- KEYS[1..n] keys to delete (one stream, its id set, its retention). Audited.
-- -> {'ok'} | an audit refusal
local err = audit_check('')
if err then return err end
audit_append()
redis.call('DEL', unpack(KEYS))
return {'ok'}
