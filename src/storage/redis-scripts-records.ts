// Lua sources of the Redis store's records, counters and claims: each operation (or batch) is one script, atomic on the server.
//
// Conventions shared with redis-base.ts and redis-scripts-money.ts:
// - Integers travel as decimal strings and are parsed with tonumber (exact below 2^53); they are
//   written back with '%d' so that no '1e+15' notation ever reaches a key or a ledger entry.
// - Optional strings travel as '' (absent) or '=' .. value, so that an empty string stays distinct from absent.
// - A record hash has the fields v (bytes), ver, size, tag, ca, ua, exp ('' = never expires).
// - Counters and claims are hashes too, so that expiry is decided by the caller's `now`, not
//   only by the server clock (PEXPIREAT just frees the memory).
// - Every script that adds or removes a record's key index entry keeps its search document in step
//   (redis-lua-lib.ts): the index of a record is written and removed by the same script as the record.
import { OUTBOX, RECORDS, USAGE } from './redis-lua-lib.js';

/** KEYS: record. ARGV: now. Returns {ver, size, tag, ca, ua, exp, v} or nil. */
export const GET = `${RECORDS}
local now = tonumber(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'ver', 'size', 'tag', 'ca', 'ua', 'exp', 'v')
if not m[1] then return nil end
if m[6] ~= '' and tonumber(m[6]) <= now then return nil end
return m
`;

/**
 * KEYS: record, index, expiry zset, docs, total, terms. ARGV: now, mode ('' | 'v' | 'a'), version, value, size, tag,
 * expiresAt, key, posting key base, document ('' = none given, '=' .. terms)[, done events (OUTBOX in redis-lua-lib.ts;
 * KEYS[7] the global due zset on a standalone server)]. Returns {1, created, version, createdAt} or {0, current meta |
 * nil}. No document given: the live record's one stays; a record created (or replacing an expired one) that way has none.
 */
export const PUT = `${RECORDS}${OUTBOX}
local now = tonumber(ARGV[1])
local ix = {d = KEYS[4], s = KEYS[5], w = KEYS[6], tb = ARGV[9]}
reap(KEYS[2], KEYS[3], ix, now)
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
if ARGV[10] ~= '' then index_doc(ix, ARGV[8], ARGV[1], ARGV[7], ' ' .. string.sub(ARGV[10], 2) .. ' ')
elseif cur then restamp(ix, ARGV[8], ARGV[1], ARGV[7])
else index_doc(ix, ARGV[8]) end
local x = ext_at(11, false, KEYS[7])
if x then x.write(x.d, tonumber(redis.call('HGET', x.t .. 'a', 'bal')) or 0, now) end
return {1, cur and 0 or 1, ver, ca}
`;

/**
 * KEYS: record, index, expiry zset, docs, total, terms. ARGV: now, mode, version, key, posting key base.
 * Returns {1, deleted} or {0, current meta | nil}.
 */
export const DELETE = `${RECORDS}
local now = tonumber(ARGV[1])
local cur = current(KEYS[1], now)
if not matches(cur, ARGV[2], tonumber(ARGV[3])) then return {0, cur or false} end
redis.call('DEL', KEYS[1])
drop(KEYS[2], KEYS[3], {d = KEYS[4], s = KEYS[5], w = KEYS[6], tb = ARGV[5]}, {ARGV[4]}, math.huge)
return {1, cur and 1 or 0}
`;

/**
 * KEYS: index, expiry zset, docs, total, terms. ARGV: now, record key base, lex min, lex max, limit, budget, posting
 * key base, with values ('1' | ''). Returns {{{key, ver, size, tag, ca, ua, exp[, v]}...}, cut} in byte order. Record
 * keys are derived from the index entries: they carry the same {account} hash tag, so they live in the same Cluster
 * slot. At most `budget` index entries are read, so that entries of expired records cannot make one script long:
 * when the budget runs out first, `cut` is the last entry read (the caller goes on after it), else false.
 */
export const LIST = `${RECORDS}
local now = tonumber(ARGV[1])
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local ix = {d = KEYS[3], s = KEYS[4], w = KEYS[5], tb = ARGV[7]}
reap(KEYS[1], KEYS[2], ix, now)
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
    local rk = ARGV[2] .. enc(k)
    local m = current(rk, now)
    if m then
      if ARGV[8] == '1' then m[7] = redis.call('HGET', rk, 'v') end
      table.insert(m, 1, k)
      out[#out + 1] = m
    else
      stale[#stale + 1] = k
    end
  end
end
-- Entries whose record is gone or expired at now (e.g. removed by the server's own expiry), with their documents;
-- past DROP_TERMS terms the rest stay for a later call (they are skipped as expired meanwhile).
drop(KEYS[1], KEYS[2], ix, stale, DROP_TERMS)
return {out, cut}
`;

/**
 * One batch of a purge. KEYS: index, expiry zset, docs, total, terms. ARGV: now, record key base, batch size, posting
 * key base, term budget. Removes the first records of the index (at most `batch`, and no more once `budget` distinct
 * terms of their documents were unindexed), each with its index entries and document, and returns {live records
 * removed, 1 if the batch was full (the caller goes on) else 0}. Cheaper per record than a delete (an erasure of a
 * big user is thousands of these): documents are read and removed for the whole batch at once, postings removed
 * with one SREM per term of the batch (the records of a user share most of their words), and a term whose
 * posting set empties stays in the terms zset until the index is empty, when the zset goes whole (no document is
 * left then, so none of its terms has a posting).
 */
export const PURGE_BATCH = `${RECORDS}
local now, batch, budget = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[5])
local ix = {d = KEYS[3], s = KEYS[4], w = KEYS[5], tb = ARGV[4]}
local keys = redis.call('ZRANGE', KEYS[1], 0, batch - 1)
local docs = {}
for i = 1, #keys, 500 do
  local got = redis.call('HMGET', ix.d, unpack(keys, i, math.min(i + 499, #keys)))
  for j = 1, #got do docs[i + j - 1] = got[j] end
end
-- Postings to remove, grouped by term: one SREM per term of the batch (records share most of their words).
local taken, pairs_, length, n, records, byterm = 0, 0, 0, 0, {}, {}
for i, k in ipairs(keys) do
  if pairs_ >= budget then break end
  taken = i
  if docs[i] then
    local set, len = terms_of(body_of(docs[i]))
    for t in pairs(set) do
      local list = byterm[t]
      if list then list[#list + 1] = k else byterm[t] = {k} end
      pairs_ = pairs_ + 1
    end
    length = length + len
  end
  local key = ARGV[2] .. enc(k)
  if current(key, now) then n = n + 1 end
  records[i] = key
end
for t, list in pairs(byterm) do chunked('SREM', ix.tb .. t, list) end
if taken > 0 then
  local part = {unpack(keys, 1, taken)}
  chunked('HDEL', ix.d, part)
  chunked('ZREM', KEYS[1], part)
  chunked('ZREM', KEYS[2], part)
  for i = 1, taken, 500 do redis.call('UNLINK', unpack(records, i, math.min(i + 499, taken))) end
  if length > 0 and redis.call('INCRBY', ix.s, -length) <= 0 then redis.call('DEL', ix.s) end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  -- Every expiry entry and document has an index entry too (every script keeps them together), so none should be
  -- left; an erasure still makes sure that no document or posting outlives the collection.
  local cursor, left = '0', {}
  repeat
    local page = redis.call('HSCAN', ix.d, cursor, 'COUNT', batch)
    cursor, left = page[1], page[2]
  until #left > 0 or cursor == '0'
  for i = 1, #left, 2 do index_doc(ix, left[i]) end
  if #left > 0 then return {n, 1} end
  redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  return {n, 0}
end
return {n, (taken < #keys or #keys == batch) and 1 or 0}
`;

/** KEYS: counter, then the usage hashes when counted. ARGV: by, expiresAt, now, then usage (the caller's `add`). Returns the new value. */
export const INCR = `${USAGE}
local now = tonumber(ARGV[3])
local m = redis.call('HMGET', KEYS[1], 'n', 'exp')
local n = 0
if m[1] and tonumber(m[2]) > now then n = tonumber(m[1]) end
n = n + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'n', string.format('%d', n), 'exp', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local u = usage_of(2, 3)
if u then tally_done(u) end
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
