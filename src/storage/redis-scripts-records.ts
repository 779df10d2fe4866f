// Lua sources of the Redis store's records, counters and claims: each operation (or batch) is one script, atomic on the server.
//
// Conventions shared with redis-base.ts and redis-scripts-money.ts:
// - Integers travel as decimal strings and are parsed with tonumber (exact below 2^53); they are
//   written back with '%d' so that no '1e+15' notation ever reaches a key or a ledger entry.
// - Optional strings travel as '' (absent) or '=' .. value, so that an empty string stays distinct from absent.
// - A record hash has the fields v (bytes), ver, size, tag, ca, ua, exp ('' = never expires).
// - Counters and claims are hashes too, so that expiry is decided by the caller's `now`, not
//   only by the server clock (PEXPIREAT just frees the memory).

/** Helpers for the record scripts. */
const RECORDS = `
local function fmt(n) return string.format('%d', n) end
-- Same escaping as enc() in redis-base.ts, for record keys built from index entries.
local function enc(s)
  if s == '' then return '%' end
  return (string.gsub(s, '[%%:{}]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
-- The live record's metadata {ver, size, tag, ca, ua, exp}, or nil when absent or expired at now.
local function current(key, now)
  local m = redis.call('HMGET', key, 'ver', 'size', 'tag', 'ca', 'ua', 'exp')
  if not m[1] then return nil end
  if m[6] ~= '' and tonumber(m[6]) <= now then return nil end
  return m
end
local function matches(cur, mode, ver)
  if mode == 'a' then return cur == nil end
  if mode == 'v' then return cur ~= nil and tonumber(cur[1]) == ver end
  return true
end
-- Drops index entries of records expired at now (the x zset scores keys by expiresAt); bounded per call.
local function reap(idx, xz, now)
  local gone = redis.call('ZRANGEBYSCORE', xz, '-inf', now, 'LIMIT', 0, 100)
  if #gone > 0 then
    redis.call('ZREM', idx, unpack(gone))
    redis.call('ZREM', xz, unpack(gone))
  end
end
`;

/** KEYS: record. ARGV: now. Returns {ver, size, tag, ca, ua, exp, v} or nil. */
export const GET = `${RECORDS}
local now = tonumber(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'ver', 'size', 'tag', 'ca', 'ua', 'exp', 'v')
if not m[1] then return nil end
if m[6] ~= '' and tonumber(m[6]) <= now then return nil end
return m
`;

/**
 * KEYS: record, index, expiry zset. ARGV: now, mode ('' | 'v' | 'a'), version, value, size, tag, expiresAt, key.
 * Returns {1, created, version, createdAt} or {0, current meta | nil}.
 */
export const PUT = `${RECORDS}
local now = tonumber(ARGV[1])
reap(KEYS[2], KEYS[3], now)
local cur = current(KEYS[1], now)
if not matches(cur, ARGV[2], tonumber(ARGV[3])) then return {0, cur or false} end
local ver, ca = 1, ARGV[1]
if cur then ver, ca = tonumber(cur[1]) + 1, cur[4] end
redis.call('HSET', KEYS[1], 'v', ARGV[4], 'ver', fmt(ver), 'size', ARGV[5], 'tag', ARGV[6], 'ca', ca, 'ua', ARGV[1], 'exp', ARGV[7])
if ARGV[7] == '' then
  redis.call('PERSIST', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[8])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8])
end
redis.call('ZADD', KEYS[2], 0, ARGV[8])
return {1, cur and 0 or 1, ver, ca}
`;

/** KEYS: record, index, expiry zset. ARGV: now, mode, version, key. Returns {1, deleted} or {0, current meta | nil}. */
export const DELETE = `${RECORDS}
local now = tonumber(ARGV[1])
local cur = current(KEYS[1], now)
if not matches(cur, ARGV[2], tonumber(ARGV[3])) then return {0, cur or false} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
return {1, cur and 1 or 0}
`;

/**
 * KEYS: index, expiry zset. ARGV: now, record key base, lex min, lex max, limit, budget.
 * Returns {{{key, ver, size, tag, ca, ua, exp}...}, cut} in byte order. Record keys are derived from
 * the index entries: they carry the same {account} hash tag, so they live in the same Cluster slot.
 * At most `budget` index entries are read, so that entries of expired records cannot make one script
 * long: when the budget runs out first, `cut` is the last entry read (the caller goes on after it), else false.
 */
export const LIST = `${RECORDS}
local now = tonumber(ARGV[1])
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
reap(KEYS[1], KEYS[2], now)
local out, stale, offset, last, cut = {}, {}, 0, false, false
while #out < limit do
  if offset >= budget then
    cut = last
    break
  end
  local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', offset, math.min(limit - #out, budget - offset))
  if #keys == 0 then break end
  offset = offset + #keys
  for _, k in ipairs(keys) do
    last = k
    local m = current(ARGV[2] .. enc(k), now)
    if m then
      table.insert(m, 1, k)
      out[#out + 1] = m
    else
      stale[#stale + 1] = k
    end
  end
end
-- Entries whose record is gone or expired at now (e.g. removed by the server's own expiry).
for i = 1, #stale, 100 do
  local part = {unpack(stale, i, math.min(i + 99, #stale))}
  redis.call('ZREM', KEYS[1], unpack(part))
  redis.call('ZREM', KEYS[2], unpack(part))
end
return {out, cut}
`;

/**
 * One batch of a purge. KEYS: index, expiry zset. ARGV: now, record key base, batch size.
 * Removes the first `batch` records of the index, each with its index entries, and returns
 * {live records removed, index entries taken}; the caller repeats until fewer than `batch` were taken.
 */
export const PURGE_BATCH = `${RECORDS}
local now = tonumber(ARGV[1])
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
local n = 0
for _, k in ipairs(keys) do
  local key = ARGV[2] .. enc(k)
  if current(key, now) then n = n + 1 end
  redis.call('UNLINK', key)
end
if #keys > 0 then
  redis.call('ZREM', KEYS[1], unpack(keys))
  redis.call('ZREM', KEYS[2], unpack(keys))
else
  -- Every expiry entry has an index entry too (put, delete, reap and list keep both): none can be left.
  redis.call('DEL', KEYS[2])
end
return {n, #keys}
`;

/** KEYS: counter. ARGV: by, expiresAt, now. Returns the new value. */
export const INCR = `
local now = tonumber(ARGV[3])
local m = redis.call('HMGET', KEYS[1], 'n', 'exp')
local n = 0
if m[1] and tonumber(m[2]) > now then n = tonumber(m[1]) end
n = n + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'n', string.format('%d', n), 'exp', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return n
`;

/** KEYS: claim. ARGV: value, expiresAt ('' = never), now. Returns {1} or {0, current value}. */
export const CLAIM = `
local m = redis.call('HMGET', KEYS[1], 'v', 'exp')
if m[1] and (m[2] == '' or tonumber(m[2]) > tonumber(ARGV[3])) then return {0, m[1]} end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'exp', ARGV[2])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return {1}
`;

/** KEYS: claim. ARGV: value, expiresAt. Replaces the claim unconditionally, like the generic store. */
export const UPDATE_CLAIM = `
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'exp', ARGV[2])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1
`;
