// Lua sources of the Redis store: each contract operation is one of these scripts, so it runs atomically on the server.
//
// Conventions shared with redis-store.ts:
// - Integers travel as decimal strings and are parsed with tonumber (exact below 2^53); they are
//   written back with '%d' so that no '1e+15' notation ever reaches a key or a ledger entry.
// - Optional strings travel as '' (absent) or '=' .. value, so that an empty string stays distinct from absent.
// - A record hash has the fields v (bytes), ver, size, tag, ca, ua, exp ('' = never expires).
// - Counters and claims are hashes too, so that expiry is decided by the caller's `now`, not
//   only by the server clock (PEXPIREAT just frees the memory).

/** Helpers for the record scripts. */
const RECORDS = `
local function fmt(n) return string.format('%d', n) end
-- Same escaping as enc() in redis-store.ts, for record keys built from index entries.
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
 * KEYS: index, expiry zset. ARGV: now, record key base, lex min, lex max, limit.
 * Returns {{key, ver, size, tag, ca, ua, exp}...} in byte order. Record keys are derived from the
 * index entries: they carry the same {account} hash tag, so they live in the same Cluster slot.
 */
export const LIST = `${RECORDS}
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[5])
reap(KEYS[1], KEYS[2], now)
local out, stale, offset = {}, {}, 0
while #out < limit do
  local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', offset, limit - #out)
  if #keys == 0 then break end
  offset = offset + #keys
  for _, k in ipairs(keys) do
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
return out
`;

/** KEYS: index, expiry zset. ARGV: now, record key base. Returns how many live records were removed. */
export const PURGE = `${RECORDS}
local now = tonumber(ARGV[1])
local n = 0
for _, k in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. enc(k)
  if current(key, now) then n = n + 1 end
  redis.call('UNLINK', key)
end
redis.call('DEL', KEYS[1], KEYS[2])
return n
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

/**
 * Prelude of every money script. KEYS: account (bal, seq), ledger list, references, holds (id ->
 * amount), holds by expiry, counter (or the account key again when unused), the record charge
 * authenticates with (or the account key again), and, on a standalone server only, the global zset
 * of accounts by earliest hold expiry (for sweep). ARGV: now, account.
 * Releases expired holds first, posting 'release' entries, exactly like the generic store.
 */
const MONEY = `
local now = tonumber(ARGV[1])
local acct = redis.call('HMGET', KEYS[1], 'bal', 'seq')
local bal, seq = tonumber(acct[1]) or 0, tonumber(acct[2]) or 0
local function fmt(n) return string.format('%d', n) end
local function str(s) if s then return cjson.encode(s) end return 'null' end
local function opt(s) if s == '' then return nil end return string.sub(s, 2) end
-- Appends one ledger entry (JSON without accountId, which the reader adds) and returns it.
local function append(amount, kind, ref, memo)
  seq = seq + 1
  bal = bal + amount
  local e = '{"seq":' .. fmt(seq) .. ',"amount":' .. fmt(amount) .. ',"kind":' .. str(kind) ..
    ',"reference":' .. str(ref) .. ',"memo":' .. str(memo) .. ',"createdAt":' .. fmt(now) ..
    ',"balanceAfter":' .. fmt(bal) .. '}'
  redis.call('RPUSH', KEYS[2], e)
  redis.call('HSET', KEYS[1], 'bal', fmt(bal), 'seq', fmt(seq))
  if ref then redis.call('HSET', KEYS[3], ref, fmt(seq)) end
  return e
end
-- Keeps the account's earliest hold expiry in the global zset that sweep reads.
local function reindex()
  if not KEYS[8] then return end
  local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', KEYS[8], first[2], ARGV[2]) else redis.call('ZREM', KEYS[8], ARGV[2]) end
end
local released = 0
do
  local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
  for _, id in ipairs(due) do
    local amount = tonumber(redis.call('HGET', KEYS[4], id))
    redis.call('HDEL', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
    if amount then append(amount, 'release', 'hold:' .. id, 'hold expired') end
    released = released + 1
  end
  if #due > 0 then reindex() end
end
`;

/** Releases expired holds only. Returns how many. */
export const RELEASE = `${MONEY}
return released
`;

/** Returns the balance (after releasing expired holds). */
export const BALANCE = `${MONEY}
return bal
`;

/** ARGV[3..]: amount, kind, reference?, memo?. Returns {1, balance, entry} | {0, balance} (funds) | {2, balance} (duplicate). */
export const POST = `${MONEY}
local amount, ref = tonumber(ARGV[3]), opt(ARGV[5])
if ref and redis.call('HEXISTS', KEYS[3], ref) == 1 then return {2, bal} end
if amount < 0 and bal + amount < 0 then return {0, bal} end
local e = append(amount, ARGV[4], ref, opt(ARGV[6]))
return {1, bal, e}
`;

/**
 * ARGV[3..]: windowExpiresAt, freeLimit, price, memo?, auth tag? ('' = no auth), auth hash (32 bytes).
 * KEYS[6]: the window's counter; KEYS[7]: the API key record (same {account} slot: Cluster-safe).
 * Returns {1, freeUsed, balance} (free) | {2, freeUsed, balance, entry} (paid) | {0, freeUsed, balance}
 * | {3} (unauthorized). The key is checked before the prelude, so a refused caller writes nothing. The
 * plain string compare is safe: both sides are SHA-256 digests (see src/storage/charge-auth.ts).
 */
export const CHARGE = `
if ARGV[7] ~= '' then
  local m = redis.call('HMGET', KEYS[7], 'tag', 'exp', 'v')
  local live = m[1] == string.sub(ARGV[7], 2) and (m[2] == '' or tonumber(m[2]) > tonumber(ARGV[1]))
  if not live or #ARGV[8] ~= 32 or string.sub(m[3], 1, 32) ~= ARGV[8] then return {3} end
end
${MONEY}
local c = redis.call('HMGET', KEYS[6], 'n', 'exp')
local used = 0
if c[1] and tonumber(c[2]) > now then used = tonumber(c[1]) end
if used < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[6], 'n', fmt(used + 1), 'exp', ARGV[3])
  redis.call('PEXPIREAT', KEYS[6], ARGV[3])
  return {1, used + 1, bal}
end
local price = tonumber(ARGV[5])
if price <= 0 or bal < price then return {0, used, bal} end
local e = append(-price, 'debit', nil, opt(ARGV[6]))
return {2, used, bal, e}
`;

/** ARGV[3..]: free ('1' | '0'), amount, memo?. KEYS[6]: the window's counter. Returns the balance. */
export const REFUND = `${MONEY}
if ARGV[3] == '1' then
  local c = redis.call('HMGET', KEYS[6], 'n', 'exp')
  -- HSET keeps the counter's PEXPIREAT, so the window still ends when it should.
  if c[1] and tonumber(c[2]) > now and tonumber(c[1]) > 0 then redis.call('HSET', KEYS[6], 'n', fmt(tonumber(c[1]) - 1)) end
elseif tonumber(ARGV[4]) > 0 then
  append(tonumber(ARGV[4]), 'refund', nil, opt(ARGV[5]))
end
return bal
`;

/** ARGV[3..]: holdId, amount, expiresAt, memo?. Returns {1, balance} | {0, balance} (funds) | {2, balance} (duplicate). */
export const HOLD = `${MONEY}
local id, amount = ARGV[3], tonumber(ARGV[4])
if redis.call('HEXISTS', KEYS[4], id) == 1 then return {2, bal} end
if bal < amount then return {0, bal} end
redis.call('HSET', KEYS[4], id, fmt(amount))
redis.call('ZADD', KEYS[5], ARGV[5], id)
append(-amount, 'hold', 'hold:' .. id, opt(ARGV[6]))
reindex()
return {1, bal}
`;

/** ARGV[3..]: holdId, actual, memo?. Returns {1, charged, balance, entry | nil} | {0, balance} (unknown hold). */
export const SETTLE = `${MONEY}
local id = ARGV[3]
local amount = tonumber(redis.call('HGET', KEYS[4], id))
if not amount then return {0, bal} end
redis.call('HDEL', KEYS[4], id)
redis.call('ZREM', KEYS[5], id)
reindex()
-- Beyond the hold, charge only what the balance covers: the balance never goes below 0.
local charged = math.min(tonumber(ARGV[4]), amount + bal)
local back = amount - charged
local e = false
if back ~= 0 then e = append(back, 'settle', nil, opt(ARGV[5])) end
return {1, charged, bal, e}
`;

/** KEYS: ledger list. ARGV: before ('' = none), limit. Returns entries oldest first (seq = index + 1). */
export const LEDGER = `
local n = redis.call('LLEN', KEYS[1])
local before, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local hi = n
if before and before - 1 < hi then hi = before - 1 end
if hi < 1 or limit < 1 then return {} end
local lo = math.max(1, hi - limit + 1)
return redis.call('LRANGE', KEYS[1], lo - 1, hi - 1)
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
