// The labelled search relevance set (3 users, their memories, queries with the keys that answer them) and its self-check.
import { contentStems, words } from '../../test/support/embedder.js';
import { ALEX } from './set-alex.js';
import { KENJI } from './set-kenji.js';
import { MARIA } from './set-maria.js';
import type { Json, LabelledMemory, LabelledQuery } from './types.js';

export type { Json, LabelledMemory, LabelledQuery } from './types.js';

/** One user of the set: the memories to store under `userId`, and the queries to run as that user. */
export interface RelevanceUser {
  userId: string;
  memories: LabelledMemory[];
  queries: LabelledQuery[];
}

/** The whole set, in a fixed order (no randomness: the same run gives the same numbers). */
export const RELEVANCE_SET: RelevanceUser[] = [ALEX, MARIA, KENJI].map((u) => ({
  userId: u.userId,
  memories: u.memories,
  queries: u.queries.map((q, i) => ({ id: `${u.userId.split(/[^a-z]/)[0]}-${String(i + 1).padStart(2, '0')}`, ...q })),
}));

/** Every text a lexical index sees in a memory: the key, the field names and the string, number and boolean leaves. */
export function memoryTexts(memory: LabelledMemory): string[] {
  const out = [memory.key];
  const walk = (v: Json): void => {
    if (v === null) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), walk(x);
    else out.push(String(v));
  };
  walk(memory.data);
  return out;
}

/** The content words (folded, stemmed) a query shares with a memory; empty for a true paraphrase. */
export function sharedWords(query: string, memory: LabelledMemory): string[] {
  const have = new Set(memoryTexts(memory).flatMap(contentStems));
  // A prefix query ("debounc*") shares a word when some word of the memory starts with it.
  const prefixes = [...query.matchAll(/([\p{L}\p{N}]+)\*/gu)].map((x) => words(x[1]!).join(''));
  const shared = contentStems(query.replace(/[\p{L}\p{N}]+\*/gu, ' ')).filter((w) => have.has(w));
  for (const p of prefixes) if ([...have].some((w) => w.startsWith(p))) shared.push(`${p}*`);
  return [...new Set(shared)];
}

/**
 * Problems with the set itself, empty when it is sound: sizes, unknown or duplicate keys, and a
 * `sharesWord` label that does not match the data (so "paraphrase" stays an honest claim).
 */
export function checkSet(set: RelevanceUser[] = RELEVANCE_SET): string[] {
  const problems: string[] = [];
  const memories = set.reduce((n, u) => n + u.memories.length, 0);
  const queries = set.reduce((n, u) => n + u.queries.length, 0);
  if (memories < 300) problems.push(`only ${memories} memories (at least 300)`);
  if (queries < 60) problems.push(`only ${queries} queries (at least 60)`);
  for (const user of set) {
    const byKey = new Map<string, LabelledMemory>();
    for (const mem of user.memories) {
      if (byKey.has(mem.key)) problems.push(`${user.userId}: key ${mem.key} twice`);
      byKey.set(mem.key, mem);
    }
    for (const q of user.queries) {
      if (q.relevant.length === 0) problems.push(`${q.id}: no relevant key`);
      const found = q.relevant.map((k) => byKey.get(k));
      found.forEach((mem, i) => mem || problems.push(`${q.id}: relevant key ${q.relevant[i]} is not stored`));
      const shared = found.flatMap((mem) => (mem ? sharedWords(q.q, mem) : []));
      if (q.sharesWord !== shared.length > 0) {
        problems.push(`${q.id} "${q.q}": labelled sharesWord ${q.sharesWord}, shares ${shared.length ? shared.join(', ') : 'nothing'}`);
      }
    }
  }
  return problems;
}
