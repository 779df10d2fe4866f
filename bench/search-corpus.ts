// A deterministic corpus of agent memories (small JSON values, Zipf-distributed words) and queries over it, for the search benchmarks.
import { documentText } from '../src/search/document.js';
import type { PutInput } from '../src/storage/contract.js';

/** Common words first (they take the top Zipf ranks), then made-up words: a vocabulary like a real user's. */
const COMMON = ('the a to of and in is for on with user prefers python typescript style test deploy latency error retry batch ' +
  'vector token prompt context session remember project team meeting friday monday deadline budget customer invoice ' +
  'database postgres redis cache query index server client api endpoint bug fix release version branch review ' +
  'dark mode editor vim emacs coffee tea lunch travel flight hotel berlin paris tokyo london family birthday').split(' ');
const SYLLABLES = 'ka lo mer ti sa nu ver pol din ra qui zet bo fen gra hal mi tor us pen'.split(' ');

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  // mulberry32: small, fast, good enough for picking words.
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The vocabulary, most frequent first: COMMON then 4,000 made-up words of 2 to 4 syllables. */
export const VOCABULARY: string[] = (() => {
  const rnd = seeded(1);
  const words = new Set(COMMON);
  while (words.size < COMMON.length + 4000) {
    const n = 2 + Math.floor(rnd() * 3);
    words.add(Array.from({ length: n }, () => SYLLABLES[Math.floor(rnd() * SYLLABLES.length)]).join(''));
  }
  return [...words];
})();

/** Cumulative Zipf (s = 1) weights over the vocabulary, for picking word ranks. */
const CUMULATIVE = (() => {
  const out: number[] = [];
  let sum = 0;
  for (let r = 1; r <= VOCABULARY.length; r++) out.push((sum += 1 / r));
  return out.map((x) => x / sum);
})();

function word(rnd: () => number): string {
  const x = rnd();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}

const sentence = (rnd: () => number, min: number, max: number) => Array.from({ length: min + Math.floor(rnd() * (max - min + 1)) }, () => word(rnd)).join(' ');

const KINDS = ['preference', 'fact', 'note', 'task', 'contact', 'event'];

/** Memory `i` of a user: key and a small JSON value (~150-300 bytes), like what an agent stores. */
export function memory(user: number, i: number): { key: string; value: unknown } {
  const rnd = seeded(user * 1_000_003 + i);
  const kind = KINDS[i % KINDS.length]!;
  return {
    key: `${kind}/${word(rnd)}_${i}`,
    value: {
      kind,
      text: sentence(rnd, 8, 30),
      tags: [word(rnd), word(rnd)],
      source: rnd() < 0.5 ? 'chat' : 'import',
      at: new Date(1_760_000_000_000 + i * 61_000).toISOString(),
    },
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

/** The PutInput the memory service would write for memory `i` (with its search document, or none). */
export function putInput(user: number, i: number, withIndex: boolean): { key: string; input: PutInput } {
  const { key, value } = memory(user, i);
  const json = JSON.stringify(value);
  return { key, input: { value: bytes(json), size: json.length, tag: 't', expiresAt: null, index: withIndex ? documentText(key, value) : undefined } };
}

export type QueryKind = 'common word' | 'mid word' | 'rare word' | 'two words' | 'phrase' | 'prefix*' | 'in every memory';

/** Queries of each kind, as a user types them (parsed by src/search/query.ts before they reach the store). */
export function queries(perKind: number): Array<{ kind: QueryKind; q: string }> {
  const rnd = seeded(42);
  const pick = (from: number, to: number) => VOCABULARY[from + Math.floor(rnd() * (to - from))]!;
  const out: Array<{ kind: QueryKind; q: string }> = [];
  for (let i = 0; i < perKind; i++) {
    // Ranks past the stop words (the first 6): a common word is in ~5-15% of the memories.
    out.push({ kind: 'common word', q: pick(10, 40) });
    out.push({ kind: 'mid word', q: pick(200, 800) });
    out.push({ kind: 'rare word', q: pick(2000, VOCABULARY.length) });
    out.push({ kind: 'two words', q: `${pick(10, 200)} ${pick(200, 2000)}` });
    // A phrase that occurs: two adjacent words of some memory's text.
    const text = (memory(0, Math.floor(rnd() * 10_000)).value as { text: string }).text.split(' ');
    const at = Math.floor(rnd() * (text.length - 1));
    out.push({ kind: 'phrase', q: `"${text[at]} ${text[at + 1]}"` });
    out.push({ kind: 'prefix*', q: `${pick(40, 400).slice(0, 4)}*` });
    // The worst case: a field name every value has, so every memory matches and is ranked.
    out.push({ kind: 'in every memory', q: ['source', 'tags', 'kind'][i % 3]! });
  }
  return out;
}
