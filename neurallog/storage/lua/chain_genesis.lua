-- KEYS[1] tenant hash.  No ARGV of its own. Audited and chained (chain_link.lua): the
-- first links of a tenant that has none yet (a 0.1.0 tenant), appended only while the
-- chain is empty (chain_check refuses with 'chain-head' otherwise).
-- -> {'ok'} | {'no-tenant'} | a chain or audit refusal
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no-tenant'} end
local err = chain_check() or audit_check('')
if err then return err end
audit_append()
chain_append()
return {'ok'}
