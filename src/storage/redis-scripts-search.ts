// Lua source of the Redis store's search: candidates from the postings, BM25 over their documents, the best live records with values, in one script.
import { RECORDS } from './redis-lua-lib.js';

/**
 * KEYS: index, expiry zset, docs, total, terms (redis-lua-lib.ts). ARGV: now, record key base, posting key base, key
 * prefix, limit, k1, b, document budget, prefix term budget, then one (kind, text) pair per unit: 't' a term, 'f' a
 * phrase (its words joined by ' '), 'p' a term prefix. Returns {{key, ver, size, tag, ca, ua, exp, v, score}...},
 * best first (score desc, updatedAt desc, key), live at now only.
 *
 * Scoring is BM25 exactly as TextIndex.score in src/search/text-index.ts computes it (same formula, same order of
 * operations, k1 and b passed from there): N = documents of the collection, df = SCARD of a term's postings, the size
 * of the union of a prefix's postings, or the documents where a phrase really occurs. Bounds, so that one search stays
 * a few milliseconds whatever the size of a user: a prefix expands to its first `prefix term budget` terms; candidates
 * are gathered from the rarest unit first and stop at `document budget` documents (a unit too common to fit then only
 * scores the documents the rarer ones found); a phrase's df counts at most that many documents and extrapolates.
 * A candidate whose record is gone or expired at now is never returned: it is dropped from the index on the way.
 * More records expired at now than one reap drops: refuses to run (APG_DUE), so that the caller drops them first
 * (REAP, in bounded scripts) and the budget is never spent on expired documents.
 */
export const SEARCH = `${RECORDS}
local now = tonumber(ARGV[1])
local base, prefix, limit = ARGV[2], ARGV[4], tonumber(ARGV[5])
local k1, b, budget, maxterms = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local ix = {d = KEYS[3], s = KEYS[4], w = KEYS[5], tb = ARGV[3]}
reap(KEYS[1], KEYS[2], ix, now)
if #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1) > 0 then
  return redis.error_reply('APG_DUE expired records left to drop')
end
local n = redis.call('HLEN', ix.d)
if n == 0 then return {} end
local avgdl = tonumber(redis.call('GET', ix.s) or '0') / n
-- Locals: a global lookup per call costs as much as the call in the loops below, which run once per candidate.
local find, sub, floor, tonum = string.find, string.sub, math.floor, tonumber

-- Occurrences of needle in a stored document (overlapping: ' w w ' occurs twice in ' w w w ', as in occurrences()).
local function count(s, needle)
  local c, i = 0, 1
  while true do
    local p = find(s, needle, i, true)
    if not p then return c end
    c, i = c + 1, p + 1
  end
end

local docs = {}
-- Reads the documents of keys not read yet, 500 per HMGET.
local function fetch(keys, from, to)
  local want = {}
  for i = from, to do if docs[keys[i]] == nil then want[#want + 1] = keys[i] end end
  for i = 1, #want, 500 do
    local part = {unpack(want, i, math.min(i + 499, #want))}
    local got = redis.call('HMGET', ix.d, unpack(part))
    for j, k in ipairs(part) do docs[k] = got[j] or false end
  end
end

local units, order = {}, {}
for i = 10, #ARGV - 1, 2 do
  local u = {kind = ARGV[i], text = ARGV[i + 1]}
  if u.kind == 'p' then
    u.needle = ' ' .. u.text
    local terms = redis.call('ZRANGEBYLEX', ix.w, '[' .. u.text, '(' .. u.text .. '\\255', 'LIMIT', 0, maxterms)
    local seen, members = {}, {}
    for j = 1, #terms, 200 do
      local sets = {}
      for t = j, math.min(j + 199, #terms) do sets[#sets + 1] = ix.tb .. terms[t] end
      for _, k in ipairs(redis.call('SUNION', unpack(sets))) do
        if not seen[k] then
          seen[k] = true
          members[#members + 1] = k
        end
      end
    end
    u.members, u.df, u.size = members, #members, #members
  elseif u.kind == 'f' then
    u.needle = ' ' .. u.text .. ' '
    local sets, seen = {}, {}
    for w in string.gmatch(u.text, '[^ ]+') do
      if not seen[w] then
        seen[w] = true
        sets[#sets + 1] = ix.tb .. w
      end
    end
    u.members = redis.call('SINTER', unpack(sets))
    u.size = #u.members
    local scanned = math.min(#u.members, budget)
    fetch(u.members, 1, scanned)
    local found = 0
    for j = 1, scanned do
      local d = docs[u.members[j]]
      if d and count(d, u.needle) > 0 then found = found + 1 end
    end
    u.df = scanned > 0 and found * #u.members / scanned or 0
  else
    u.needle = ' ' .. u.text .. ' '
    u.size = redis.call('SCARD', ix.tb .. u.text)
    u.df = u.size
  end
  u.idf = math.log(1 + (n - u.df + 0.5) / (u.df + 0.5))
  units[#units + 1] = u
  order[#order + 1] = u
end
table.sort(order, function(x, y) return x.size < y.size end)

-- BM25 of candidates, as TextIndex.score sums it (unit by unit, in the query's order), their documents read 500 per
-- HMGET and scored on the spot. Candidates expired at now (by the document's header) are left out and leave the
-- index below. Scored candidates are kept as parallel arrays: score, updatedAt, key.
local cand, ckeys, nc, np = {}, {}, 0, #prefix
local sc, su, sk, stale, ns = {}, {}, {}, {}, 0
local kp1, nu = k1 + 1, #units
local function score(from)
  for i = from, nc, 500 do
    local last = math.min(i + 499, nc)
    local got = redis.call('HMGET', ix.d, unpack(ckeys, i, last))
    for j = 1, last - i + 1 do
      local d = got[j]
      if d then
        local _, _, ua, exp, dl = find(d, '^([0-9]*)|([0-9]*)|([0-9]*)|')
        if exp ~= '' and tonum(exp) <= now then
          stale[#stale + 1] = ckeys[i + j - 1]
        else
          local norm = k1 * (1 - b + b * tonum(dl) / avgdl)
          local s = 0
          for x = 1, nu do
            local u = units[x]
            local tf = count(d, u.needle)
            if tf > 0 then s = s + (u.idf * tf * kp1) / (tf + norm) end
          end
          if s > 0 then
            ns = ns + 1
            sc[ns], su[ns], sk[ns] = s, tonum(ua), ckeys[i + j - 1]
          end
        end
      end
    end
  end
end

-- Whether scored candidate x ranks below y.
local function worse(x, y)
  if sc[x] ~= sc[y] then return sc[x] < sc[y] end
  if su[x] ~= su[y] then return su[x] < su[y] end
  return sk[x] > sk[y]
end
-- The best want candidates not yet taken, best first: a min-heap of want candidates (its root the worst kept),
-- O(n log want); most candidates are compared with the root only.
local taken = {}
local function best(want)
  local h, nh = {}, 0
  for it = 1, ns do
    if not taken[it] then
      if nh < want then
        nh = nh + 1
        h[nh] = it
        local i = nh
        while i > 1 and worse(h[i], h[floor(i / 2)]) do
          local p = floor(i / 2)
          h[i], h[p] = h[p], h[i]
          i = p
        end
      elseif worse(h[1], it) then
        h[1] = it
        local i = 1
        while true do
          local l, r, m = 2 * i, 2 * i + 1, i
          if l <= nh and worse(h[l], h[m]) then m = l end
          if r <= nh and worse(h[r], h[m]) then m = r end
          if m == i then break end
          h[i], h[m] = h[m], h[i]
          i = m
        end
      end
    end
  end
  table.sort(h, function(x, y) return worse(y, x) end)
  return h
end

-- Candidates (keys under the key prefix), rarest unit first, up to the budget. MaxScore pruning (Turtle and Flood):
-- a unit adds at most idf * (k1 + 1) to a score (tf / (tf + norm) < 1), so once the limit-th best score reaches the sum
-- of that bound over the units not admitted yet, no document holding only those can rank in the answer: their
-- candidates (a common word's thousands) are never read. Exact; undone if a record turns out gone (see below).
local pos, bound = 0, {}
bound[#order + 1] = 0
for i = #order, 1, -1 do bound[i] = bound[i + 1] + order[i].idf * kp1 end
local function admit(list)
  for _, k in ipairs(list) do
    if nc >= budget then return end
    if not cand[k] and (np == 0 or sub(k, 1, np) == prefix) then
      cand[k] = true
      nc = nc + 1
      ckeys[nc] = k
    end
  end
end
local function gather(prune)
  while pos < #order do
    -- Past the budget no unit adds a candidate: they all count as admitted (so the walk below always ends).
    if nc >= budget then
      pos = #order
      return
    end
    if prune and ns >= limit then
      local top = best(limit)
      if sc[top[limit]] >= bound[pos + 1] then return end
    end
    pos = pos + 1
    local u, from = order[pos], nc + 1
    if u.size > 0 then admit(u.members or redis.call('SMEMBERS', ix.tb .. u.text)) end
    score(from)
  end
end
gather(true)

-- The best live records with their values. A record can still be gone (evicted, or expired by the server's clock
-- before the caller's): it leaves the index, the pruned units are admitted after all, and the next round reads twice
-- as many, so that many such are no quadratic walk.
local out, want = {}, limit
while #out < limit do
  local top = best(want)
  if #top == 0 and pos >= #order then break end
  local gone = #top == 0
  for _, it in ipairs(top) do
    taken[it] = true
    if #out < limit then
      local m = redis.call('HMGET', base .. enc(sk[it]), 'ver', 'size', 'tag', 'ca', 'ua', 'exp', 'v')
      if m[1] and (m[6] == '' or tonumber(m[6]) > now) then
        out[#out + 1] = {sk[it], m[1], m[2], m[3], m[4], m[5], m[6], m[7], string.format('%.17g', sc[it])}
      else
        stale[#stale + 1] = sk[it]
        gone = true
      end
    end
  end
  if gone and pos < #order then gather(false) end
  want = 2 * want
end
drop(KEYS[1], KEYS[2], ix, stale, DROP_TERMS)
return out
`;

/**
 * KEYS: index, expiry zset, docs, total, terms. ARGV: now, posting key base. Drops the key index entries and
 * documents of records expired at now, up to DROP_TERMS terms; returns 1 while some are left, else 0.
 */
export const REAP = `${RECORDS}
local now = tonumber(ARGV[1])
local ix = {d = KEYS[3], s = KEYS[4], w = KEYS[5], tb = ARGV[2]}
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
local n = drop(KEYS[1], KEYS[2], ix, due, DROP_TERMS)
return (n < #due or #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1) > 0) and 1 or 0
`;
