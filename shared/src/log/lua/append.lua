-- Appends a batch of events atomically (DESIGN §1).
-- KEYS: log stream, objects hash, meta hash
-- ARGV: fence, epoch, expected_head, maxlen, then per entry: seq, event json, ns, kind, snapshot op
--       where the op is "P:<key>" (put the event under key), "D:<key>" (delete key) or "N".
-- Returns {status, detail}: {"ok", new_head} or a refusal the writer must handle.
local meta = redis.call('HMGET', KEYS[3], 'epoch', 'seq', 'fence')
if not meta[1] then return {'epoch_mismatch', ''} end
local fence = tonumber(ARGV[1])
local current_fence = tonumber(meta[3] or '0')
if fence < current_fence then return {'stale_fence', meta[3]} end
if meta[1] ~= ARGV[2] then return {'epoch_mismatch', meta[1]} end
local head = tonumber(meta[2])
if head ~= tonumber(ARGV[3]) then return {'head_mismatch', meta[2]} end
local n = (#ARGV - 4) / 5
for i = 0, n - 1 do
  if tonumber(ARGV[5 + i * 5]) ~= head + 1 + i then return {'non_contiguous', ''} end
end
for i = 0, n - 1 do
  local b = 5 + i * 5
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], ARGV[b] .. '-0',
    'e', ARGV[b + 1], 'ns', ARGV[b + 2], 'kind', ARGV[b + 3])
  local op = ARGV[b + 4]
  local tag = string.sub(op, 1, 1)
  if tag == 'P' then
    redis.call('HSET', KEYS[2], string.sub(op, 3), ARGV[b + 1])
  elseif tag == 'D' then
    redis.call('HDEL', KEYS[2], string.sub(op, 3))
  end
end
local new_head = ARGV[5 + (n - 1) * 5]
if n == 0 then new_head = meta[2] end
redis.call('HSET', KEYS[3], 'seq', new_head, 'fence', ARGV[1])
return {'ok', new_head}
