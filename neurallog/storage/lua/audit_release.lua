-- KEYS[1] audit turn.  ARGV[1] the token of an append that ends without appending.
-- Frees the turn if that append holds it: it lost a race (and so claimed the turn), then
-- was refused by its script's own checks or gave up. Without this the others would wait
-- for the claim to lapse.
-- -> 1 (freed) | 0 (not its turn)
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
