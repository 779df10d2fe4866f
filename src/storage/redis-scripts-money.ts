// Lua sources of the Redis store's money: each operation is one script over one account's keys, atomic on the server.
//
// Conventions: those of redis-scripts-records.ts (integers as decimal strings written back with '%d',
// optional strings as '' or '=' .. value).
import { OUTBOX, USAGE } from './redis-lua-lib.js';

/** Expired holds one script releases at most: an account with a backlog is worked off in several scripts. */
const RELEASE_BATCH = 100;

/**
 * Head of every money script. KEYS: account (bal, seq), ledger list, references, holds (id -> amount),
 * holds by expiry, counter, the record charge authenticates with, the charge id, the usage hash of the day,
 * the key-use hash (each of the last five is the account key again when unused), and, on a standalone
 * server only, the global zset of accounts by earliest hold expiry (for sweep) and, when caps or events are given,
 * the global zset of accounts with deliveries due (see OUTBOX). ARGV: now, account, the operation's own, then its caps
 * and events when given (OUTBOX), then the usage block (see USAGE in redis-lua-lib.ts) for CHARGE, VOID, POST and SETTLE.
 * Releases expired holds first, posting 'release' entries, exactly like the generic store, at most
 * RELEASE_BATCH of them; `more` says whether due holds are left.
 */
const MONEY_HEAD = `${USAGE}${OUTBOX}
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
  if not KEYS[11] then return end
  local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', KEYS[11], first[2], ARGV[2]) else redis.call('ZREM', KEYS[11], ARGV[2]) end
end
-- Takes hold \`id\` off the books; returns its amount, or nil when there is no such hold.
local function unhold(id)
  local amount = tonumber(redis.call('HGET', KEYS[4], id))
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
  return amount
end
local released, more = 0, false
do
  local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, ${RELEASE_BATCH})
  for _, id in ipairs(due) do
    local amount = unhold(id)
    if amount then append(amount, 'release', 'hold:' .. id, 'hold expired') end
    released = released + 1
  end
  if #due > 0 then reindex() end
  more = #due == ${RELEASE_BATCH} and #redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 1) > 0
end
`;

/** Every operation runs on the released state: with due holds left, it refuses to run (the caller releases them first, then retries). */
const MONEY = `${MONEY_HEAD}
if more then return redis.error_reply('APG_DUE expired holds left to release') end
`;

/** Releases a batch of expired holds only. Returns {how many, 1 if more are due else 0}. */
export const RELEASE = `${MONEY_HEAD}
return {released, more and 1 or 0}
`;

/** Returns the balance (after releasing expired holds). */
export const BALANCE = `${MONEY}
return bal
`;

/**
 * ARGV[3..]: amount, kind, reference?, memo?, [caps given back (-amount), done and low events,] then usage (the counters
 * of the entry, counted once posted). Returns {1, balance, entry} | {0, balance} (funds) | {2, balance} (duplicate).
 */
export const POST = `${MONEY}
local amount, ref = tonumber(ARGV[3]), opt(ARGV[5])
if ref and redis.call('HEXISTS', KEYS[3], ref) == 1 then return {2, bal} end
if amount < 0 and bal + amount < 0 then return {0, bal} end
local e = append(amount, ARGV[4], ref, opt(ARGV[6]))
local x = ext_at(7, true, KEYS[12])
if x then
  x.give(-amount, now)
  x.write(x.d, bal, now)
  x.low(bal - amount, bal, now)
end
local u = usage_of(9, 10)
if u then tally_done(u) end
return {1, bal, e}
`;

/**
 * ARGV[3..]: windowExpiresAt, freeLimit, price, memo?, auth tag? ('' = no auth), auth hash (32 bytes)
 * followed by the auth scope (none: the hash alone; a hash of another length is sent as ''), voidable
 * until ('' = no charge id), [caps and low and capped events,] then usage. KEYS[6]: the window's counter; KEYS[7]:
 * the API key record; KEYS[8]: the charge id (all in the same {account} slot: Cluster-safe).
 * Returns {1, freeUsed, balance} (free) | {2, freeUsed, balance, entry} (paid) | {0, freeUsed, balance}
 * | {5, freeUsed, balance, cap} (refused by caps[cap], nothing taken: a cap first, since credit would not lift it)
 * | {3} (unauthorized) | {4} (id voided or used before, or arriving after `until` by the server's clock).
 * The key and the id are checked before the prelude, so a refused caller writes nothing. The plain
 * string compare is safe: both sides are SHA-256 digests (see src/storage/charge-auth.ts).
 * The id is kept as 'taken:until' (0 = a free call, else the price) until `until`, for VOID.
 */
export const CHARGE = `
if ARGV[7] ~= '' then
  local m = redis.call('HMGET', KEYS[7], 'tag', 'exp', 'v')
  local want, scope = string.sub(ARGV[7], 2), string.sub(ARGV[8], 33)
  local tagged = m[1] == want
  -- A scoped key's tag is want;scope,scope: it admits the call when its list names the scope.
  if not tagged and m[1] and scope ~= '' and string.sub(m[1], 1, #want + 1) == want .. ';' then
    for s in string.gmatch(string.sub(m[1], #want + 2), '[^,]+') do tagged = tagged or s == scope end
  end
  local live = tagged and (m[2] == '' or tonumber(m[2]) > tonumber(ARGV[1]))
  if not live or #ARGV[8] < 32 or string.sub(m[3], 1, 32) ~= string.sub(ARGV[8], 1, 32) then return {3} end
end
${MONEY}
local voidable, ttl = ARGV[9], 0
if voidable ~= '' then
  local t = redis.call('TIME')
  -- The id's record lives until \`voidable\` by the server's clock (PX, not PXAT: Redis before 6.2 has no PXAT).
  -- Checked after the due holds are released, as every backend does.
  ttl = tonumber(voidable) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if ttl <= 0 or redis.call('EXISTS', KEYS[8]) == 1 then return {4} end
end
local u = usage_of(9, 10)
key_used(u, ARGV[1])
local c = redis.call('HMGET', KEYS[6], 'n', 'exp')
local used = 0
if c[1] and tonumber(c[2]) > now then used = tonumber(c[1]) end
if used < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[6], 'n', fmt(used + 1), 'exp', ARGV[3])
  redis.call('PEXPIREAT', KEYS[6], ARGV[3])
  if voidable ~= '' then redis.call('SET', KEYS[8], '0:' .. voidable, 'PX', fmt(ttl)) end
  if u then
    tally(u, 'free', 1)
    tally_done(u)
  end
  return {1, used + 1, bal}
end
local price = tonumber(ARGV[5])
if price <= 0 then return {0, used, bal} end
local x = ext_at(10, true, KEYS[12])
local cap = x and x.over(price, now)
if cap then
  x.capped(cap, bal, now)
  return {5, used, bal, cap}
end
if bal < price then return {0, used, bal} end
local e = append(-price, 'debit', nil, opt(ARGV[6]))
if x then
  x.spend(price, now)
  x.low(bal + price, bal, now)
end
if voidable ~= '' then redis.call('SET', KEYS[8], ARGV[5] .. ':' .. voidable, 'PX', fmt(ttl)) end
if u then
  tally(u, 'paid', 1)
  tally(u, 'spent', price)
  tally_done(u)
end
return {2, used, bal, e}
`;

/**
 * ARGV[3..]: id, until, memo?, [caps given back and the done events of a paid charge,] then usage (a charge given
 * back). KEYS[6]: the charge's window counter; KEYS[8]: the id.
 * Undoes what the id stands for, once: a free call (counter -1), a debit (a 'refund' entry), else a live
 * hold of that id (a 'release' entry); then keeps the id voided ('-1:until'). Returns {1, balance, free
 * (1 | 0), entry | nil} (given back) | {2, balance} (nothing had committed) | {3, balance} (voided before).
 */
export const VOID = `${MONEY}
local taken, kept = nil, 0
local rec = redis.call('GET', KEYS[8])
if rec then
  local t, u = string.match(rec, '^(-?%d+):(%d+)$')
  kept = tonumber(u)
  if kept > now then taken = tonumber(t) end
end
if taken == -1 then return {3, bal} end
local keep = math.max(tonumber(ARGV[4]), kept)
redis.call('SET', KEYS[8], '-1:' .. fmt(keep))
redis.call('PEXPIREAT', KEYS[8], fmt(keep))
local u = taken and usage_of(9, 10)
if u then
  tally(u, 'refunds', 1)
  tally(u, 'refunded', taken)
  tally_done(u)
end
if taken == 0 then
  local c = redis.call('HMGET', KEYS[6], 'n', 'exp')
  -- HSET keeps the counter's PEXPIREAT, so the window still ends when it should.
  if c[1] and tonumber(c[2]) > now and tonumber(c[1]) > 0 then redis.call('HSET', KEYS[6], 'n', fmt(tonumber(c[1]) - 1)) end
  return {1, bal, 1}
end
local e
local x = ext_at(6, true, KEYS[12])
if taken then
  e = append(taken, 'refund', nil, opt(ARGV[5]))
  if x then
    x.give(-taken, now)
    x.write(x.d, bal, now)
  end
else
  local amount = unhold(ARGV[3])
  if not amount then return {2, bal} end
  reindex()
  e = append(amount, 'release', 'hold:' .. ARGV[3], opt(ARGV[5]))
  if x then x.give(-amount, now) end
end
return {1, bal, 0, e}
`;

/**
 * ARGV[3..]: holdId, amount, expiresAt, memo?[, caps and low and capped events]. KEYS[8]: the hold id's void mark.
 * Returns {1, balance} | {0, balance} (funds) | {2, balance} (duplicate) | {3, balance} (voided before it arrived)
 * | {4, balance, cap} (refused by caps[cap]).
 */
export const HOLD = `${MONEY}
local id, amount = ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[8]) == 1 then return {3, bal} end
if redis.call('HEXISTS', KEYS[4], id) == 1 then return {2, bal} end
local x = ext_at(7, false, KEYS[12])
local cap = x and x.over(amount, now)
if cap then
  x.capped(cap, bal, now)
  return {4, bal, cap}
end
if bal < amount then return {0, bal} end
redis.call('HSET', KEYS[4], id, fmt(amount))
redis.call('ZADD', KEYS[5], ARGV[5], id)
append(-amount, 'hold', 'hold:' .. id, opt(ARGV[6]))
reindex()
if x then
  x.spend(amount, now)
  x.low(bal + amount, bal, now)
end
return {1, bal}
`;

/**
 * ARGV[3..]: holdId, actual, memo?, [caps given back (what was held but not charged),] then usage (a paid call when it
 * charged something). Returns {1, charged, balance, entry | nil} | {0, balance} (unknown hold).
 */
export const SETTLE = `${MONEY}
local amount = unhold(ARGV[3])
if not amount then return {0, bal} end
reindex()
-- Beyond the hold, charge only what the balance covers: the balance never goes below 0.
local charged = math.min(tonumber(ARGV[4]), amount + bal)
local back = amount - charged
local e = false
if back ~= 0 then e = append(back, 'settle', nil, opt(ARGV[5])) end
local x = ext_at(6, true)
if x then x.give(-back, now) end
local u = usage_of(9, 10)
if u then
  if charged > 0 then
    tally(u, 'paid', 1)
    tally(u, 'spent', charged)
  end
  tally_done(u)
end
return {1, charged, bal, e}
`;

/** KEYS: the account's usage hashes of the days asked for. Returns each one's fields and values (HGETALL), in order. */
export const USAGE_READ = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
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
