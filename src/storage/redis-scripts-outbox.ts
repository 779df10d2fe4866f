// Lua sources of the Redis store's webhook outbox (Outbox): each script works on the deliveries of one account, in its
// Cluster slot. The deliveries' keys and fields are described with OUTBOX in redis-lua-lib.ts, which writes them.
//
// ARGV[1] of every script is the account's key base 'P{A}:'; a delivery's hash is base .. 'e:' .. id (ids have no
// '{' '}' or whitespace, so the key stays in the slot). KEYS end, on a standalone server only, with the global zset of
// accounts by earliest pending score, which the script keeps in step (a Cluster keeps it from the process: see
// redis-outbox.ts).

/** The fields of a delivery as scripts answer them (deliveryOf in redis-outbox.ts reads them in this order). */
const FIELDS = `'id', 'ac', 'ev', 'ep', 'ty', 'da', 'ca', 'ba', 'st', 'at', 'na', 'lu', 'le', 'ua'`;

/** Sets the account's score in the global due zset (KEYS[n] when given) to its earliest pending score; returns that score or false. */
const REINDEX = `
local function reindex(ep, due, account)
  local first = redis.call('ZRANGE', ep, 0, 0, 'WITHSCORES')
  if due then
    if first[1] then redis.call('ZADD', due, first[2], account) else redis.call('ZREM', due, account) end
  end
  return first[2] or false
end
`;

/**
 * KEYS: pending zset[, due]. ARGV: base, now, leaseUntil, limit, account. Leases up to `limit` pending deliveries whose
 * next attempt is due and whose lease ran out (attempts + 1); an entry of a delivery no longer pending is dropped, one
 * not claimable is rescored. Returns {{fields...}..., the account's earliest pending score or false}.
 */
export const OB_CLAIM = `${REINDEX}
local base, now, lease, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - #out)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local k = base .. 'e:' .. id
    local m = redis.call('HMGET', k, 'st', 'na', 'lu', 'at')
    if m[1] ~= 'pending' then
      redis.call('ZREM', KEYS[1], id)
    else
      local na, lu = tonumber(m[2]), tonumber(m[3])
      if na <= now and lu <= now then
        redis.call('HSET', k, 'at', string.format('%d', tonumber(m[4]) + 1), 'lu', ARGV[3], 'ua', ARGV[2])
        redis.call('ZADD', KEYS[1], math.max(na, lease), id)
        out[#out + 1] = redis.call('HMGET', k, ${FIELDS})
      else
        redis.call('ZADD', KEYS[1], math.max(na, lu), id)
      end
    end
  end
end
return {out, reindex(KEYS[1], KEYS[2], ARGV[5])}
`;

/**
 * KEYS: pending zset, list zset[, due]. ARGV: base, id, attempt, now, outcome ('d' delivered | 'r' retry | 'f' failed),
 * error, retryAt, account, keep (ms). Records how attempt `attempt` ended when it is the delivery's latest and the delivery
 * is pending; a delivered or failed one expires `keep` after now, and the list zset with the last of them. Returns 1 | 0.
 */
export const OB_FINISH = `${REINDEX}
local k, now = ARGV[1] .. 'e:' .. ARGV[2], tonumber(ARGV[4])
local m = redis.call('HMGET', k, 'st', 'at')
if m[1] ~= 'pending' or tonumber(m[2]) ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', k, 'lu', '0', 'ua', ARGV[4])
if ARGV[5] ~= 'd' then redis.call('HSET', k, 'le', ARGV[6]) end
if ARGV[5] == 'r' then
  redis.call('HSET', k, 'na', ARGV[7])
  redis.call('ZADD', KEYS[1], ARGV[7], ARGV[2])
else
  local until_ = string.format('%d', now + tonumber(ARGV[9]))
  redis.call('HSET', k, 'st', ARGV[5] == 'd' and 'delivered' or 'failed')
  redis.call('PEXPIREAT', k, until_)
  redis.call('ZREM', KEYS[1], ARGV[2])
  -- Every delivery of the list is finished and expires by then: so does the list (a write or retry persists it again).
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('PEXPIREAT', KEYS[2], until_) end
end
reindex(KEYS[1], KEYS[3], ARGV[8])
return 1
`;

/** KEYS: pending zset, list zset[, due]. ARGV: base, id, now, account. Makes a delivery pending, due now, unleased, attempts 0. Returns 1 | 0 (unknown). */
export const OB_RETRY = `${REINDEX}
local k = ARGV[1] .. 'e:' .. ARGV[2]
local ca = redis.call('HGET', k, 'ca')
if not ca then return 0 end
redis.call('HSET', k, 'st', 'pending', 'at', '0', 'na', ARGV[3], 'lu', '0', 'ua', ARGV[3])
redis.call('PERSIST', k)
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[2], ca, ARGV[2])
redis.call('PERSIST', KEYS[2])
reindex(KEYS[1], KEYS[3], ARGV[4])
return 1
`;

/** KEYS: a delivery's hash. Returns its fields or nil. */
export const OB_GET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
return redis.call('HMGET', KEYS[1], ${FIELDS})
`;

/**
 * KEYS: list zset. ARGV: base, before createdAt ('' = none), before id, status ('' = any), limit, budget. Up to `limit`
 * deliveries newest first (createdAt, then id, descending) strictly before the cursor, of that status; entries whose
 * delivery expired are dropped. At most `budget` entries are read: when it runs out first, the last one read comes
 * back as the cursor to go on from. Returns {{fields...}..., {createdAt, id} or false}.
 */
export const OB_PAGE = `
local base, at, bid, status = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local out, stale, offset, cut = {}, {}, 0, false
while #out < limit do
  if offset >= budget then break end
  local page = redis.call('ZREVRANGEBYSCORE', KEYS[1], at or '+inf', '-inf', 'WITHSCORES', 'LIMIT', offset, 100)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local id, ca = page[i], tonumber(page[i + 1])
    offset = offset + 1
    if not at or ca < at or id < bid then
      local m = redis.call('HMGET', base .. 'e:' .. id, ${FIELDS})
      if not m[1] then stale[#stale + 1] = id
      elseif status == '' or m[9] == status then out[#out + 1] = m end
    end
    if #out >= limit then break end
    if offset >= budget then
      cut = {page[i + 1], id}
      break
    end
  end
end
if #out >= limit then cut = false end
for _, id in ipairs(stale) do redis.call('ZREM', KEYS[1], id) end
return {out, cut}
`;
