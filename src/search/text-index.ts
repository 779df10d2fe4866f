// An in-process inverted index with BM25 ranking: the in-memory store's index, and the ranking of
// stores that keep search documents but have no index of their own (the generic Keyv store).
import type { SearchUnit } from '../storage/contract.js';

/** BM25 parameters (the usual defaults: Lucene, Elasticsearch and SQLite FTS5 use them too). */
const K1 = 1.2;
const B = 0.75;

/** A ranked key of the index. */
export interface Ranked {
  key: string;
  score: number;
}

const splitDocument = (doc: string): string[] => (doc === '' ? [] : doc.split(' '));

/** How often `unit` occurs in `tokens`: a term, a prefix, or a phrase (its words adjacent, in order). */
export function occurrences(unit: SearchUnit, tokens: readonly string[]): number {
  const { words } = unit;
  const first = words[0]!;
  let n = 0;
  for (let i = 0; i <= tokens.length - words.length; i++) {
    const t = tokens[i]!;
    if (unit.prefix ? !t.startsWith(first) : t !== first) continue;
    let j = 1;
    while (j < words.length && tokens[i + j] === words[j]) j++;
    if (j === words.length) n++;
  }
  return n;
}

/**
 * Terms to documents, and each document's terms in order (for phrases and lengths). Not bounded by
 * itself: its owner (a store's collection) bounds what is put in it.
 */
export class TextIndex {
  private readonly docs = new Map<string, string[]>();
  private readonly postings = new Map<string, Set<string>>();
  private totalTerms = 0;

  get size(): number {
    return this.docs.size;
  }

  /** Indexes `key` under `doc` (terms separated by single spaces), replacing what it had. */
  set(key: string, doc: string): void {
    this.delete(key);
    const tokens = splitDocument(doc);
    if (!tokens.length) return;
    this.docs.set(key, tokens);
    this.totalTerms += tokens.length;
    for (const t of tokens) {
      let keys = this.postings.get(t);
      if (!keys) this.postings.set(t, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Removes `key`; true when it was indexed. */
  delete(key: string): boolean {
    const tokens = this.docs.get(key);
    if (!tokens) return false;
    this.docs.delete(key);
    this.totalTerms -= tokens.length;
    for (const t of tokens) {
      const keys = this.postings.get(t);
      if (keys && keys.delete(key) && keys.size === 0) this.postings.delete(t);
    }
    return true;
  }

  /** Keys holding the first word of `unit` (every term with the prefix, for a prefix unit). */
  private candidates(unit: SearchUnit): Set<string> {
    const first = unit.words[0]!;
    if (!unit.prefix) return this.postings.get(first) ?? new Set();
    const out = new Set<string>();
    for (const [term, keys] of this.postings) if (term.startsWith(first)) for (const k of keys) out.add(k);
    return out;
  }

  /**
   * Keys matching any unit, BM25-scored, for which `keep` is true, best first (ties: `keep`'s order is
   * the caller's; see `rankHits`). Document frequency counts documents where the unit really occurs.
   */
  score(units: readonly SearchUnit[], keep: (key: string) => boolean): Ranked[] {
    const n = this.docs.size;
    if (!n) return [];
    const avgdl = this.totalTerms / n;
    const scores = new Map<string, number>();
    for (const unit of units) {
      const found: Array<[string, number, number]> = [];
      for (const key of this.candidates(unit)) {
        const tokens = this.docs.get(key)!;
        const tf = unit.prefix || unit.words.length > 1 ? occurrences(unit, tokens) : count(tokens, unit.words[0]!);
        if (tf > 0) found.push([key, tf, tokens.length]);
      }
      const idf = Math.log(1 + (n - found.length + 0.5) / (found.length + 0.5));
      for (const [key, tf, dl] of found) {
        if (!keep(key)) continue;
        const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / avgdl));
        scores.set(key, (scores.get(key) ?? 0) + s);
      }
    }
    return [...scores].map(([key, score]) => ({ key, score }));
  }
}

function count(tokens: readonly string[], term: string): number {
  let n = 0;
  for (const t of tokens) if (t === term) n++;
  return n;
}

/**
 * Sorts scored hits best first, ties broken by the most recent update (then by key, so that an
 * answer is stable), and keeps `limit`.
 */
export function rankHits<T extends { score: number; record: { key: string; updatedAt: number } }>(hits: T[], limit: number): T[] {
  hits.sort((a, b) => b.score - a.score || b.record.updatedAt - a.record.updatedAt || (a.record.key < b.record.key ? -1 : 1));
  return hits.slice(0, limit);
}
