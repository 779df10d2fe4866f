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
const MARKS = /[\u0300-\u036f]/g;
const ASCII_WORD = /^[a-z]+$/;
/** camelCase, PascalCase, HTTPServer and letter/digit boundaries. */
const CAMEL = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\p{N}+|[^\p{N}A-Za-z]+/gu;

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
 * Pushes the terms of `text` onto `out`. With `parts`, a word written in camelCase (or with digits)
 * also gives its parts after the whole word: "FastAPI" gives fastapi, fast, api, so "FastAPI",
 * "fastapi" and "fast api" all find it. A query splits without parts (the user's word as typed).
 */
export function pushTerms(text: string, out: string[], parts: boolean, max = Infinity): void {
  for (const m of text.matchAll(WORD)) {
    if (out.length >= max) return;
    const raw = m[0];
    out.push(termOf(fold(raw)));
    if (!parts) continue;
    const pieces = raw.match(CAMEL);
    if (pieces && pieces.length > 1) for (const p of pieces) if (out.length < max) out.push(termOf(fold(p)));
  }
}

/** The terms of a short text as a query sees them. */
export function termsOf(text: string): string[] {
  const out: string[] = [];
  pushTerms(text, out, false);
  return out;
}
