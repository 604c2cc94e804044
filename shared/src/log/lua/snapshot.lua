-- Reads the meta and the whole snapshot hash atomically.
-- KEYS: objects hash, meta hash
-- Returns false when the log does not exist, else {meta, {key, value, ...}}.
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq', 'fence', 'created')
if not meta[1] then return false end
return {meta, redis.call('HGETALL', KEYS[1])}
