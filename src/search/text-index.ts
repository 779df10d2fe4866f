// An in-process inverted index with BM25 ranking: the in-memory store's index, and the ranking of
// stores that keep search documents but have no index of their own (the generic Keyv store).
import type { SearchUnit } from '../storage/contract.js';

/** BM25 parameters (the usual defaults: Lucene, Elasticsearch and SQLite FTS5 use them too). */
export const K1 = 1.2;
export const B = 0.75;

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
  /** Each document's terms in order (phrases, prefixes, lengths, and what to remove on delete). */
  private readonly docs = new Map<string, string[]>();
  /** Term -> (key -> how often the term occurs in it). */
  private readonly postings = new Map<string, Map<string, number>>();
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
      if (!keys) this.postings.set(t, (keys = new Map()));
      keys.set(key, (keys.get(key) ?? 0) + 1);
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

  /** Keys where `unit` occurs, with how often: a posting list as is for a term, checked documents for a phrase or prefix. */
  private matches(unit: SearchUnit): Array<[string, number]> {
    const first = unit.words[0]!;
    if (!unit.prefix && unit.words.length === 1) return [...(this.postings.get(first) ?? [])];
    const keys = new Set<string>();
    if (!unit.prefix) for (const k of this.postings.get(first)?.keys() ?? []) keys.add(k);
    else for (const [term, ks] of this.postings) if (term.startsWith(first)) for (const k of ks.keys()) keys.add(k);
    const out: Array<[string, number]> = [];
    for (const key of keys) {
      const tf = occurrences(unit, this.docs.get(key)!);
      if (tf > 0) out.push([key, tf]);
    }
    return out;
  }

  /**
   * Keys matching any unit, BM25-scored, for which `keep` is true (unordered: see `rankHits`).
   * Document frequency counts documents where the unit really occurs.
   */
  score(units: readonly SearchUnit[], keep: (key: string) => boolean): Ranked[] {
    const n = this.docs.size;
    if (!n) return [];
    const avgdl = this.totalTerms / n;
    const scores = new Map<string, number>();
    for (const unit of units) {
      const found = this.matches(unit);
      const idf = Math.log(1 + (n - found.length + 0.5) / (found.length + 0.5));
      for (const [key, tf] of found) {
        const dl = this.docs.get(key)!.length;
        const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / avgdl));
        scores.set(key, (scores.get(key) ?? 0) + s);
      }
    }
    const out: Ranked[] = [];
    for (const [key, score] of scores) if (keep(key)) out.push({ key, score });
    return out;
  }
}


/**
 * Sorts scored hits best first, ties broken by the most recent update (then by key, so that an
 * answer is stable), and keeps `limit`.
 */
export function rankHits<T extends { score: number; record: { key: string; updatedAt: number } }>(hits: T[], limit: number): T[] {
  hits.sort((a, b) => b.score - a.score || b.record.updatedAt - a.record.updatedAt || (a.record.key < b.record.key ? -1 : 1));
  return hits.slice(0, limit);
}
