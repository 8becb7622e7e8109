-- KEYS[1] chain list, KEYS[2] audit stream, KEYS[3] audit head.  ARGV[1] first index,
-- ARGV[2] last index (inclusive, LRANGE's). One snapshot of the links asked for, the
-- chain's length and the audit log's record count and head, so a client can sign an
-- audit checkpoint that belongs with the links it read.
-- -> {links, length, audit count, audit head ("" = no record)}
local links = redis.call('LRANGE', KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local length = redis.call('LLEN', KEYS[1])
local count = redis.call('XLEN', KEYS[2])
local head = redis.call('GET', KEYS[3]) or ''
return {links, length, count, head}
