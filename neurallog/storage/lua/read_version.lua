-- KEYS[1] active version string.  ARGV[1] tenant prefix, ARGV[2] version id or "".
-- -> the row of ARGV[2] (or of the active version when ARGV[2] is ""), or false.
local id = ARGV[2]
if id == '' then id = redis.call('GET', KEYS[1]) end
if not id then return false end
return version_row(ARGV[1], id) or false
