// Search on the Redis store: Lua-kept postings per collection, BM25 computed in the script (redis-scripts-search.ts).
//
// Why the ranking runs in Lua rather than in Node over the candidates' documents: a search must return values, and
// only the best `limit` of them. Shipping every candidate's document and value to Node (megabytes for a common word
// in a user with 10,000 memories) costs more than scoring them where they are; a second round trip for the values
// would read a later state than the one scored (a record overwritten in between would be a stale hit). So one
// script scores, cuts and reads the values atomically; the formula, the ranking rules and the constants are those of
// src/search/text-index.ts (k1, b passed from there; rankHits orders the answer), and a test checks both agree.
//
// RediSearch / the Redis Query Engine (FT.CREATE over hashes) is the native alternative, but it is a module: absent
// from plain Redis up to 7.x (the server here is 7.0.15 and MODULE LIST is empty), shipped with Redis Stack and
// Redis 8; in an open-source Cluster each shard holds its own index unless the coordinator runs; and it tokenizes
// and scores by its own rules (our terms would need NOSTEM and a space-only separator to stay ours). A store could
// detect it at init (MODULE LIST has 'search') and take that path then; not implemented without a server to test on.
import type { Millis, SearchHit, SearchQuery, SearchUnit } from './contract.js';
import { B, K1, rankHits } from '../search/text-index.js';
import { int, metaOf, repliedWith, S, type Arg, type RedisBase } from './redis-base.js';

/** Documents one search scores at most (see SEARCH): every candidate of a user with 10,000 memories fits. */
export const SEARCH_DOCUMENTS = 10_000;
/** Terms a prefix expands to at most. */
export const PREFIX_TERMS = 2000;

/** A unit as the script reads it: kind and text; null when it can match no term (an empty word, a word with a space). */
function unitArgs(u: SearchUnit): [string, string] | null {
  if (!u.words.length || u.words.some((w) => w === '' || w.includes(' '))) return null;
  if (u.prefix) {
    if (u.words.length > 1) throw new RangeError('redis store: a prefix unit has one word');
    return ['p', u.words[0]!];
  }
  return [u.words.length > 1 ? 'f' : 't', u.words.join(' ')];
}

/**
 * The document as the PUT script stores it: terms separated by single spaces (extra spaces dropped, as splitting on
 * one space and ignoring empty terms would), '' for none.
 */
export function documentArg(index: string | undefined): string {
  if (index === undefined) return '';
  const clean = /^ | $|  /.test(index) ? index.split(' ').filter(Boolean).join(' ') : index;
  return `=${clean}`;
}

/** `budget`: documents scored at most (SEARCH_DOCUMENTS; smaller in tests of the bound). */
export async function redisSearch(r: RedisBase, account: string, collection: string, query: SearchQuery, now: Millis, budget = SEARCH_DOCUMENTS): Promise<SearchHit[]> {
  const units = query.units.map(unitArgs).filter((u) => u !== null);
  if (!units.length) return [];
  const [, idx, xz, base] = r.recordKeys(account, collection);
  const [docs, total, terms, posts] = r.indexKeys(account, collection);
  const args: Arg[] = [
    int(now, 'now'), base, posts, query.keyPrefix ?? '', int(query.limit, 'limit'), String(K1), String(B), String(budget), String(PREFIX_TERMS),
    ...units.flat(),
  ];
  const keys = [idx, xz, docs, total, terms];
  let rows: Buffer[][];
  for (;;) {
    try {
      rows = (await r.eval(S.SEARCH, keys, args, true)) as Buffer[][];
      break;
    } catch (error) {
      if (!repliedWith(error, 'APG_DUE')) throw error;
      // A backlog of expired records (e.g. many memories that expired together): dropped in bounded scripts first.
      while (Number(await r.eval(S.REAP, keys, [int(now, 'now'), posts])) === 1);
    }
  }
  const hits = rows.map((row) => ({
    score: Number(String(row[8])),
    record: Object.assign(metaOf(String(row[0]), row.slice(1, 7)), { value: new Uint8Array(row[7]!) }),
  }));
  return rankHits(hits, query.limit);
}
