-- Starts a new epoch: drops the previous log and snapshot (DESIGN §1, epoch change).
-- KEYS: log stream, objects hash, meta hash
-- ARGV: epoch, fence, created_ms
local current = tonumber(redis.call('HGET', KEYS[3], 'fence') or '0')
if tonumber(ARGV[2]) < current then return {'stale_fence', tostring(current)} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[3], 'epoch', ARGV[1], 'seq', '0', 'fence', ARGV[2], 'created', ARGV[3])
return {'ok', ''}
