// Lua helpers shared by the Redis record and search scripts: prepended to their sources, never run on their own.
//
// The search index of a collection (DESIGN.md 9: indexed in the same script as the record it describes):
//   docs   P{A}:d:C        hash: record key -> '<updatedAt>|<expiresAt>|<length>| t1 t2 ... tn ' (the terms of
//                          PutInput.index between single spaces, so that ' term ', ' w1 w2 ' and ' pre' find whole
//                          terms, phrases and term starts with a plain find; the header holds no space, so it never
//                          matches; with it a search ranks and drops expired records without reading their hashes)
//   total  P{A}:s:C        string: the number of terms of all documents (BM25's average length is total / HLEN docs)
//   terms  P{A}:w:C        zset, score 0: every term with at least one document (ZRANGEBYLEX expands a prefix); a
//                          purge leaves the terms it empties until the index is empty, then deletes the zset whole
//   posts  P{A}:t:C:<term> set: keys of the records whose document has the term (SCARD is its document frequency)
// Documents live beside the records, not inside their hashes: a record hash that Redis expires or evicts takes
// its fields with it, and its postings could then never be found again. Invariant kept by every script: a key
// has a document only while it has an entry in the collection's key index (P{A}:i:C), so whatever removes an
// index entry (delete, purge, reaping expired records, a list or search meeting a vanished record) unindexes
// the document in the same script.

/**
 * Terms one script unindexes at most when it cleans up after records it did not write (expired, vanished, a purge
 * batch): about 2,000 Redis calls, a few milliseconds, so that other accounts' calls never wait long behind it.
 */
export const DROP_TERMS = 1000;

/** Helpers for the record and search scripts. `ix` is {d = docs, s = total, w = terms, tb = posting key base}. */
export const RECORDS = `
local DROP_TERMS = ${DROP_TERMS}
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
-- Runs redis.call(cmd, key, items...) in chunks of 500 (an even number: ZADD pairs stay whole); unpack of
-- thousands of values would overflow Lua's C stack.
local function chunked(cmd, key, items)
  for i = 1, #items, 500 do redis.call(cmd, key, unpack(items, i, math.min(i + 499, #items))) end
end
-- Distinct terms of a document body and its length in terms. Split on ' ' only, as src/search/text-index.ts does.
local function terms_of(body)
  local set, n = {}, 0
  for t in string.gmatch(body, '[^ ]+') do
    n = n + 1
    set[t] = true
  end
  return set, n
end
-- The body (' t1 ... tn ') of a stored document.
local function body_of(stored)
  local _, e = string.find(stored, '^[0-9]*|[0-9]*|[0-9]*|')
  return string.sub(stored, e + 1)
end
-- Gives key the document body (' t1 ... tn ' of the record updated at ua, expiring at exp or ''), or none (body nil
-- or without terms); only the postings that differ change. Returns how many terms the old document had.
local function index_doc(ix, key, ua, exp, body)
  local old = redis.call('HGET', ix.d, key)
  if not old and not body then return 0 end
  local was, had = {}, 0
  if old then was, had = terms_of(body_of(old)) end
  local is, has = {}, 0
  if body then is, has = terms_of(body) end
  for t in pairs(was) do
    if not is[t] then
      local p = ix.tb .. t
      redis.call('SREM', p, key)
      if redis.call('EXISTS', p) == 0 then redis.call('ZREM', ix.w, t) end
    end
  end
  local added = {}
  for t in pairs(is) do
    if not was[t] then
      redis.call('SADD', ix.tb .. t, key)
      added[#added + 1] = 0
      added[#added + 1] = t
    end
  end
  chunked('ZADD', ix.w, added)
  if has > 0 then redis.call('HSET', ix.d, key, ua .. '|' .. exp .. '|' .. has .. '|' .. body)
  elseif old then redis.call('HDEL', ix.d, key) end
  if has ~= had and redis.call('INCRBY', ix.s, has - had) <= 0 then redis.call('DEL', ix.s) end
  return had
end
-- A write that gives no document keeps the live record's one (a TTL renewal), restamped with its update and expiry.
local function restamp(ix, key, ua, exp)
  local old = redis.call('HGET', ix.d, key)
  if old then
    local _, e = string.find(old, '^[0-9]*|[0-9]*|')
    redis.call('HSET', ix.d, key, ua .. '|' .. exp .. '|' .. string.sub(old, e + 1))
  end
end
-- Removes keys from the key index and expiry zset with their documents, one key at a time until \`budget\` terms
-- were unindexed (at least one key), so that a few huge documents cannot make one script long. Returns how many keys.
local function drop(idx, xz, ix, keys, budget)
  local terms = 0
  for i, k in ipairs(keys) do
    if terms >= budget then return i - 1 end
    terms = terms + index_doc(ix, k)
    redis.call('ZREM', idx, k)
    redis.call('ZREM', xz, k)
  end
  return #keys
end
-- Drops index entries (and documents) of records expired at now (the x zset scores keys by expiresAt); bounded per call.
local function reap(idx, xz, ix, now)
  drop(idx, xz, ix, redis.call('ZRANGEBYSCORE', xz, '-inf', now, 'LIMIT', 0, 100), DROP_TERMS)
end
`;

/**
 * Usage counting (UsageInput), prepended to the scripts that count. The script's ARGV ends with the usage block:
 * hour ("13"), expiresAt, keyId ('' = none), then counter name and value pairs (the caller's `add`, or for POST
 * everything it counts), then the block's length without this last value; a lone '0' means "no usage". `usage_of`
 * reads it: KEYS[ud] is the account's hash of that UTC day (fields '<hour>|<counter>'), KEYS[uk] its key-use hash.
 * Counters go to the day's hash, which expires with the latest bucket written to it.
 */
export const USAGE = `
local function usage_of(ud, uk)
  local n = tonumber(ARGV[#ARGV])
  if n == 0 then return nil end
  local b = #ARGV - n
  return {d = KEYS[ud], k = KEYS[uk], h = ARGV[b] .. '|', exp = ARGV[b + 1], key = ARGV[b + 2], first = b + 3, last = #ARGV - 1}
end
-- Adds n to a counter; notes when it made the counter (the hour's first count of it: its bucket is new).
local function tally(u, field, n)
  if n ~= 0 and redis.call('HINCRBY', u.d, u.h .. field, n) == n then u.new = true end
end
-- The operation took effect: the caller's counters are added. The day's hash is kept until its latest bucket expires,
-- set when a counter is made (expiresAt only grows with the hour), not on every call.
local function tally_done(u)
  for i = u.first, u.last, 2 do tally(u, ARGV[i], tonumber(ARGV[i + 1])) end
  if u.new then redis.call('PEXPIREAT', u.d, u.exp) end
end
local function key_used(u, now)
  if u and u.key ~= '' then redis.call('HSET', u.k, u.key, now) end
end
`;

/**
 * Spend caps and events of one operation (SpendCap, OperationEvents), prepended to the money scripts and PUT. The caller
 * sends them as one JSON ARGV (`ext_at` finds it), only when it gives any, so an operation without them parses nothing:
 * {t = the account's key base 'P{A}:', a = account, c = {{counter key, limit, expiresAt}...} (caps counted), g = {counter
 * key...} (caps given back), d = done rows, l = low threshold, lr = low rows, x = {rows...} per cap (capped)}, a row being
 * {id, eventId, endpoint, type, data}. Every key derives from `t`, so it is in the account's Cluster slot.
 * A delivery is the hash P{A}:e:<id> (fields id ac ev ep ty da ca ba st at na lu le ua: see OutboxDelivery), listed in
 * P{A}:ep (pending, by when it can next be claimed: max(nextAt, leaseUntil)) and P{A}:ec (all, by createdAt). `x.due`:
 * on a standalone server, the global zset of accounts by earliest pending score (claim reads it), kept here atomically.
 * The helpers are made inside `ext_at`, only when there is an ext: the common call creates one closure, not eight
 * (measured: eight cost a paid charge about 10% more Redis CPU).
 */
export const OUTBOX = `
-- The JSON of ARGV[i] with its helpers, when the caller sent it: before the usage block when \`counted\` (see USAGE), else last.
local function ext_at(i, counted, due)
  local last = #ARGV
  if counted then last = #ARGV - tonumber(ARGV[#ARGV]) - 1 end
  if i > last then return nil end
  local x = cjson.decode(ARGV[i])
  x.due = due
  local function fmt(n) return string.format('%d', n) end
  -- A counter's value and expiry; the value is 0 once expired (as the INCR script reads it).
  local function counter_at(key, now)
    local m = redis.call('HMGET', key, 'n', 'exp')
    local exp = tonumber(m[2]) or 0
    if m[1] and exp > now then return tonumber(m[1]), exp end
    return 0, exp
  end
  -- The index (from 0) of the first cap that \`amount\` more takes over its limit, else nil. Keeps what it read for spend.
  function x.over(amount, now)
    for i, c in ipairs(x.c or {}) do
      c.n, c.exp = counter_at(c[1], now)
      if c.n + amount > c[2] then return i - 1 end
    end
    return nil
  end
  -- Adds \`amount\` to every cap's counter (as \`over\` read them, in the same script), its expiry never shortened.
  function x.spend(amount, now)
    for _, c in ipairs(x.c or {}) do
      local n, exp = c.n, fmt(math.max(c.exp, c[3]))
      redis.call('HSET', c[1], 'n', fmt(n + amount), 'exp', exp)
      redis.call('PEXPIREAT', c[1], exp)
    end
  end
  -- Adds \`delta\` to the live counters named (a give-back never creates one; HSET keeps the expiry).
  function x.give(delta, now)
    if delta == 0 then return end
    for _, key in ipairs(x.g or {}) do
      local m = redis.call('HMGET', key, 'n', 'exp')
      if m[1] and tonumber(m[2]) > now then redis.call('HSET', key, 'n', fmt(tonumber(m[1]) + delta)) end
    end
  end
  -- Writes the rows not written before (insert-once by id), pending and due at now, with the balance after.
  function x.write(rows, bal, now)
    local t, at, wrote = x.t, fmt(now), false
    for _, r in ipairs(rows or {}) do
      local k = t .. 'e:' .. r[1]
      if redis.call('EXISTS', k) == 0 then
        redis.call('HSET', k, 'id', r[1], 'ac', x.a, 'ev', r[2], 'ep', r[3], 'ty', r[4], 'da', r[5], 'ca', at, 'ba', fmt(bal),
          'st', 'pending', 'at', '0', 'na', at, 'lu', '0', 'ua', at)
        redis.call('ZADD', t .. 'ep', at, r[1])
        redis.call('ZADD', t .. 'ec', at, r[1])
        wrote = true
      end
    end
    if not wrote then return end
    -- The list index lives while a delivery is pending (OB_FINISH lets it expire with the last finished one).
    redis.call('PERSIST', t .. 'ec')
    if x.due then
      local first = redis.call('ZRANGE', t .. 'ep', 0, 0, 'WITHSCORES')
      redis.call('ZADD', x.due, first[2], x.a)
    end
  end
  -- The low rows when the balance went from \`before\` (>= below) to \`after\` (< below): once per crossing.
  function x.low(before, after, now)
    if x.l and before >= x.l and after < x.l then x.write(x.lr, after, now) end
  end
  function x.capped(cap, bal, now)
    if x.x then x.write(x.x[cap + 1], bal, now) end
  end
  return x
end
`;
