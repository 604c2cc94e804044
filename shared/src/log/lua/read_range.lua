-- Reads a page of the log together with the meta and the oldest retained entry, atomically.
-- KEYS: log stream, meta hash
-- ARGV: first id to return ("<seq>-0"), count
-- Returns false when the log does not exist, else {meta, oldest_id_or_empty, entries}.
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq', 'fence', 'created')
if not meta[1] then return false end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local oldest = ''
if #first > 0 then oldest = first[1][1] end
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
return {meta, oldest, entries}
