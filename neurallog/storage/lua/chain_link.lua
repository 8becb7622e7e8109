-- Helper: compare-and-append on the tenant chain, in the same script as the write the
-- links describe. The caller adds one KEY at the end (the chain list; before the audit
-- keys, which audit_chain.lua has already taken off) and, at the end of ARGV (before the
-- audit values): the signed links (JSON strings), the seq of the first one, and last
-- their number n (0 = the request carried no link). take_chain() strips them, so the
-- script reads its own KEYS and ARGV as if there were none.
-- A script calls chain_check() after its own checks and before audit_check(): it refuses
-- when the chain key has the wrong type, when links come but the first seq is not the
-- chain's length (somebody appended meanwhile: 'chain-head', length), or when no link
-- comes but the chain has started ('chain-required', length). chain_append() runs with
-- audit_append(), before the write, so nothing is half written.
local function take_chain(keys, argv)
  local n = tonumber(argv[#argv])
  local base = #argv - 2 - n
  local c = {key = keys[#keys], n = n, first = tonumber(argv[#argv - 1]), links = {}}
  for i = 1, n do c.links[i] = argv[base + i] end
  local own_keys, own_argv = {}, {}
  for i = 1, #keys - 1 do own_keys[i] = keys[i] end
  for i = 1, base do own_argv[i] = argv[i] end
  return c, own_keys, own_argv
end

local CHAIN, KEYS, ARGV = take_chain(KEYS, ARGV)

local function chain_check()
  local t = redis.call('TYPE', CHAIN.key)['ok']
  if t ~= 'list' and t ~= 'none' then return {'chain-broken'} end
  local len = redis.call('LLEN', CHAIN.key)
  if CHAIN.n == 0 then
    if len > 0 then return {'chain-required', len} end
    return nil
  end
  if len ~= CHAIN.first then return {'chain-head', len} end
  return nil
end

local function chain_append()
  for i = 1, CHAIN.n do redis.call('RPUSH', CHAIN.key, CHAIN.links[i]) end
end
