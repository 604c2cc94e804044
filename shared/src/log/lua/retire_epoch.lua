-- Retires an epoch whose history a reader found rewritten (a Redis restored from an older copy
-- while no writer remembered the lost seqs): the meta's epoch becomes ARGV[2] iff it is still
-- ARGV[1]. Readers then resync and tell clients to reset; the writer's next append is refused
-- (epoch_mismatch) and it starts a new epoch. (epoch, seq) never means two events.
-- KEYS: meta hash. ARGV: epoch, retired epoch. Returns 1 if it retired the epoch, else 0.
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
return 1
