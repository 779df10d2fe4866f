// The words every backend indexes and every query looks for: Unicode-folded, split, lightly stemmed.
//
// One function decides what a "term" is (here, in Node), so Postgres, SQLite, Redis and the in-memory
// index all see the same terms: a backend only splits the stored text on spaces. Folding: NFKD, the
// combining diacritical marks (U+0300-U+036F, the accents of Latin, Greek and Cyrillic letters)
// removed, then lower case (and ß as ss), so "Café", "cafe" and "CAFÉ" are one term; marks of other
// scripts are kept (they are part of the letter there). A term is a run of letters and digits (with their
// marks); ASCII
// words are stemmed (Porter) so "preferences" finds "preferred".
import { stemmer } from 'stemmer';

/** Longest term kept, in characters: longer runs (hashes, base64) are cut, not dropped. */
export const MAX_TERM_CHARS = 64;

/** Letters, digits and the marks that belong to them (Devanagari vowel signs, a decomposed accent). */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
/** Words joined by single hyphens ("on-call", "ResNet-50"): each word, and the joined form too. */
const HYPHENATED = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:-[\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*/gu;
const MARKS = /[\u0300-\u036f]/g;
const ASCII_WORD = /^[a-z]+$/;
/** camelCase, PascalCase, HTTPServer and letter/digit boundaries, in any cased script ("MüllerStraße"). */
const CAMEL = /\p{Lu}+(?!\p{Ll})|\p{Lu}?[\p{Ll}\p{M}]+|\p{N}+|[^\p{N}\p{Lu}\p{Ll}]+/gu;
/** Scripts written without spaces: a run is indexed whole and as overlapping bigrams ("大阪在住" is found by "大阪"). */
const UNSPACED = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]{3,}$/u;

/** Folds case and Latin diacritics (see the module comment). */
export function fold(text: string): string {
  const decomposed = text.normalize('NFKD').replace(MARKS, '');
  return decomposed.toLowerCase().replace(/ß/g, 'ss').normalize('NFC');
}

/** A folded word as a term: stemmed when it is plain ASCII letters, cut to MAX_TERM_CHARS. */
export function termOf(folded: string): string {
  const word = folded.length > MAX_TERM_CHARS ? folded.slice(0, MAX_TERM_CHARS) : folded;
  return word.length > 2 && ASCII_WORD.test(word) ? stemmer(word) : word;
}

/**
 * Pushes the terms of one word as typed onto `out` (folding may make several: "½" folds to "1⁄2"), and
 * the bigrams of a run of an unspaced script onto `extras`.
 */
function pushWord(raw: string, out: string[], extras: string[] | null, max: number): void {
  for (const f of fold(raw).match(WORD) ?? []) {
    if (out.length >= max) return;
    out.push(termOf(f));
    if (extras && UNSPACED.test(f)) for (let i = 0; i + 2 <= f.length && extras.length < max; i++) extras.push(f.slice(i, i + 2));
  }
}

/**
 * Pushes the terms of `text`: its words, in order, onto `out`; the other forms of those words onto
 * `extras` (null: none), kept apart so that a phrase still finds its words adjacent. Other forms:
 * with `camel`, the parts of a word written in camelCase or with digits ("FastAPI": fast, api, so
 * "FastAPI", "fastapi" and "fast api" all find it); the joined form of hyphenated words ("on-call":
 * oncall, so the key "oncall" is found by "on-call", and "escooter" finds "e-scooter"); the bigrams of
 * Chinese and Japanese runs.
 */
export function pushTerms(text: string, out: string[], extras: string[] | null, max = Infinity, camel = true): void {
  for (const m of text.normalize('NFC').matchAll(HYPHENATED)) {
    if (out.length >= max) return;
    const words = m[0].split('-');
    for (const raw of words) {
      pushWord(raw, out, extras, max);
      if (!extras || !camel) continue;
      const pieces = raw.match(CAMEL);
      if (pieces && pieces.length > 1) for (const p of pieces) pushWord(p, extras, null, max);
    }
    if (extras && words.length > 1) pushWord(words.join(''), extras, null, max);
  }
}

/** The words of a query text and their other forms (joined hyphenations, bigrams; no camelCase parts). */
export function queryTerms(text: string): { words: string[]; extras: string[] } {
  const words: string[] = [];
  const extras: string[] = [];
  pushTerms(text, words, extras, Infinity, false);
  return { words, extras };
}

/** The terms of a short text as a query sees them. */
export function termsOf(text: string): string[] {
  const out: string[] = [];
  pushTerms(text, out, null);
  return out;
}
