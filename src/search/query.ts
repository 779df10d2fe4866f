// The query language: words (any may match), "quoted phrases" (in this order), and prefix* words.
import type { SearchUnit } from '../storage/contract.js';
import { fold, MAX_TERM_CHARS, queryTerms, termOf, termsOf } from './tokenize.js';

/** Most units one query may have: a longer query is cut (its first units are kept). */
export const MAX_QUERY_UNITS = 32;

/**
 * Words too common to say anything on their own; dropped from a query that has other words, so that
 * "what is the framework" ranks by "framework". Kept in documents (a phrase may need them).
 */
const STOP = new Set(termsOf(
  'a an and are as at be by do does did for from has have how i in is it its me my of on or our so that the their them then there these this to was we were what when where which who why will with you your',
));

const PIECE = /"([^"]*)"?|(\S+)/g;

/**
 * Parses a query. `"fast api"` is a phrase (its words adjacent, in order); `deplo*` matches every
 * term starting with "deplo" (not stemmed; at least 2 characters); every other word is stemmed as
 * documents are. Units are deduplicated; an empty result means the query has nothing to look for.
 */
export function parseQuery(q: string): SearchUnit[] {
  const units: SearchUnit[] = [];
  const later: SearchUnit[] = [];
  const seen = new Set<string>();
  const add = (u: SearchUnit) => {
    const id = (u.prefix ? '*' : '') + u.words.join(' ');
    if (u.words.length && !seen.has(id) && units.length < MAX_QUERY_UNITS) {
      seen.add(id);
      units.push(u);
    }
  };
  for (const m of q.matchAll(PIECE)) {
    if (m[1] !== undefined) {
      add({ words: termsOf(m[1]), prefix: false });
      continue;
    }
    const token = m[2]!;
    const star = token.endsWith('*');
    const { words, extras } = queryTerms(star ? token.slice(0, -1) : token);
    // Other forms of a word (a hyphenation joined, bigrams) are more ways to match, never required.
    for (const e of extras) later.push({ words: [e], prefix: false });
    if (star && words.length) {
      // The prefix is the last word as typed (folded, not stemmed): "preferen*" must not become "preferen".
      const lastRaw = fold(token.slice(0, -1)).match(/[\p{L}\p{N}][\p{L}\p{N}\p{M}]*$/u)?.[0]?.slice(0, MAX_TERM_CHARS) ?? '';
      for (const w of words.slice(0, -1)) add({ words: [w], prefix: false });
      if (lastRaw.length >= 2) add({ words: [lastRaw], prefix: true });
      else add({ words: [termOf(lastRaw)], prefix: false });
    } else {
      for (const w of words) add({ words: [w], prefix: false });
    }
  }
  for (const u of later) add(u);
  // A lone ASCII letter ("s" of "Lena's") says as little as a stop word.
  const meaningful = units.filter((u) => u.prefix || u.words.length > 1 || !(STOP.has(u.words[0]!) || /^[a-z]$/.test(u.words[0]!)));
  return meaningful.length ? meaningful : units;
}
