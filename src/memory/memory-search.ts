// Finding a user's memories by what they say: lexical through the store's own index, and (with an
// embedder) semantic through stored vectors; hybrid merges both lists by reciprocal rank fusion.
import { StoreUnavailableError } from '../errors.js';
import { parseQuery } from '../search/query.js';
import type { SearchConfig } from '../search/options.js';
import type { SearchHit, Store } from '../storage/contract.js';
import { decodeJson } from './codec.js';
import { refuse, type Refusal } from './draft.js';
import { toMemoryMeta, valuesOf, type MemoryMeta } from './meta.js';
import type { MemoryVectors } from './memory-vectors.js';

export type SearchMode = 'lexical' | 'semantic' | 'hybrid';

export interface SearchInput {
  userId: string;
  /** The query: words (any may match), "quoted phrases", prefix* words. */
  q: string;
  /** @default 10 */
  limit?: number | undefined;
  /** Only keys starting with this. */
  prefix?: string | undefined;
  /** false: leave the values out. @default true */
  includeData?: boolean | undefined;
  /** @default 'hybrid' with an embedder, else 'lexical' */
  mode?: SearchMode | undefined;
}

export interface SearchResult {
  meta: MemoryMeta;
  /** Higher is better; comparable within one answer only (BM25, cosine, or fused rank). */
  score: number;
  /** JSON text of the value, when asked for. */
  json?: string;
}

/** `degraded`: hybrid search whose query could not be embedded, answered from the lexical list alone (why). */
export type SearchOutcome = { ok: true; mode: SearchMode; results: SearchResult[]; degraded?: string } | { ok: false; refusal: Refusal };

/** Lists fused in hybrid mode are this many times the limit deep (at least 50): rank fusion needs more than the top few. */
const FUSION_DEPTH = 5;
/** The k of reciprocal rank fusion (Cormack et al. 2009): 60 is the value the paper and most engines use. */
const RRF_K = 60;

export class MemorySearch {
  constructor(
    private readonly store: Store,
    private readonly config: SearchConfig,
    private readonly vectors: MemoryVectors | undefined,
  ) {}

  /** Largest `limit` a search may ask for. */
  get maxLimit(): number {
    return this.config.maxLimit;
  }

  get defaultMode(): SearchMode {
    return this.vectors ? 'hybrid' : 'lexical';
  }

  async search(accountId: string, input: SearchInput, now: number): Promise<SearchOutcome> {
    const mode = input.mode ?? this.defaultMode;
    const limit = input.limit ?? 10;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > this.config.maxLimit) {
      return { ok: false, refusal: refuse('invalid_request', `limit must be an integer between 1 and ${this.config.maxLimit}`) };
    }
    if (mode !== 'lexical' && !this.vectors) {
      return { ok: false, refusal: refuse('invalid_request', `mode=${mode} needs an embedder: this server has lexical search only (the search.embed option)`) };
    }
    const units = parseQuery(input.q);
    if (!units.length && mode === 'lexical') return { ok: false, refusal: refuse('invalid_request', 'q has no word to search for (letters or digits)') };
    const depth = mode === 'hybrid' ? Math.max(50, limit * FUSION_DEPTH) : limit;
    const lexical = units.length && mode !== 'semantic' ? await this.store.search(accountId, valuesOf(input.userId), { units, keyPrefix: input.prefix, limit: depth }, now) : [];
    let hits: SearchHit[] = lexical;
    let degraded: string | undefined;
    if (this.vectors && mode !== 'lexical') {
      let semantic: Awaited<ReturnType<MemoryVectors['nearest']>>;
      try {
        semantic = await this.vectors.nearest(accountId, input.userId, input.q, { prefix: input.prefix, limit: depth }, now);
      } catch (error) {
        // A store fault stays a 503; the embedder's own failure is an upstream one.
        if (error instanceof StoreUnavailableError) throw error;
        const why = `the embedder failed: ${(error as Error).message}`;
        if (mode === 'semantic') return { ok: false, refusal: refuse(/took longer/.test(why) ? 'upstream_timeout' : 'upstream_error', `Semantic search is unavailable: ${why}`) };
        degraded = `${why}; lexical results only`;
        semantic = { hits: [], embedded: new Map() };
      }
      hits = mode === 'semantic' ? semantic.hits : fuse([lexical, semantic.hits]);
      if (!degraded) this.vectors.embedMissing(accountId, input.userId, lexical, semantic.embedded);
    }
    const results: SearchResult[] = [];
    for (const h of hits.slice(0, limit)) {
      const r: SearchResult = { meta: toMemoryMeta(h.record), score: h.score };
      if (input.includeData !== false) r.json = await decodeJson(h.record.value);
      results.push(r);
    }
    return degraded ? { ok: true, mode, results, degraded } : { ok: true, mode, results };
  }
}

/**
 * Reciprocal rank fusion: each list gives a record 1 / (k + rank); the sums rank the union. Scores
 * of different kinds (BM25, cosine) are never compared, only positions. Ties: the most recent update.
 */
export function fuse(lists: SearchHit[][]): SearchHit[] {
  const fused = new Map<string, SearchHit>();
  for (const list of lists) {
    list.forEach((h, i) => {
      const add = 1 / (RRF_K + i + 1);
      const seen = fused.get(h.record.key);
      // The newest copy of the record wins (the lists were read at slightly different times).
      if (!seen) fused.set(h.record.key, { record: h.record, score: add });
      else fused.set(h.record.key, { record: seen.record.version >= h.record.version ? seen.record : h.record, score: seen.score + add });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || b.record.updatedAt - a.record.updatedAt);
}
