// Vectors of a user's memories (semantic search): embedded in the background after each write, kept
// as records of the collection `e:<userId>` beside the values, and ranked by cosine in Node.
import { embedTexts, type EmbedQueue } from '../search/embed-queue.js';
import type { EmbedderConfig } from '../search/options.js';
import type { SearchHit, Store, StoredRecord } from '../storage/contract.js';
import { decodeJson } from './codec.js';
import { toMemoryMeta, valuesOf } from './meta.js';
import { parseTag } from './tag.js';

/** Collection of a user's vectors (purged with the user, like the history). */
export const embeddingsOf = (userId: string) => `e:${userId}`;

/** Most characters of a memory given to the embedder: its key, then its JSON text. */
const MAX_EMBED_CHARS = 8_000;
/** Records read per round trip when scanning a user's vectors. */
const PAGE = 1000;
/** Most re-embeddings one search asks for (a model change re-embeds lazily, a slice per search). */
const LAZY_PER_SEARCH = 256;

/** What a vector was made from: the model, and the content ETag of the memory it embeds. */
const tagOf = (model: string, etag: string) => `${model} ${etag}`;
function parseVectorTag(tag: string): { model: string; etag: string } {
  const i = tag.indexOf(' ');
  return { model: tag.slice(0, i), etag: tag.slice(i + 1) };
}

const toBytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
/**
 * A copy of exactly these bytes, so the floats are aligned whatever the store answered with. Not
 * `b.slice().buffer`: a Node Buffer's `slice` is a view, and its `buffer` the shared pool (pg's bytea).
 */
const toFloats = (b: Uint8Array) => new Float32Array(Uint8Array.prototype.slice.call(b).buffer);

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The text a memory is embedded from. */
export const embeddingText = (key: string, json: string): string => `${key}\n${json}`.slice(0, MAX_EMBED_CHARS);

export class MemoryVectors {
  constructor(
    private readonly store: Store,
    private readonly config: EmbedderConfig,
    private readonly queue: EmbedQueue,
  ) {}

  /** Queues the embedding of a memory's current content (read when the job runs: the newest wins). */
  written(accountId: string, userId: string, key: string): void {
    let record: StoredRecord | null = null;
    this.queue.add({
      id: `${accountId}\u0000${userId}\u0000${key}`,
      text: async () => {
        record = await this.store.get(accountId, valuesOf(userId), key, Date.now());
        return record && embeddingText(key, await decodeJson(record.value));
      },
      save: async (vector) => {
        const r = record!;
        const etag = parseTag(r.tag).etag;
        const put = { value: toBytes(vector), size: vector.byteLength, tag: tagOf(this.config.model, etag), expiresAt: r.expiresAt };
        await this.store.put(accountId, embeddingsOf(userId), key, put, Date.now());
        // Deleted or erased meanwhile: the vector must not outlive it (a search skips it anyway).
        const now = Date.now();
        if (!(await this.store.get(accountId, valuesOf(userId), key, now))) await this.store.delete(accountId, embeddingsOf(userId), key, now);
      },
    });
  }

  /** Removes one memory's vector (after the memory itself). */
  async deleted(accountId: string, userId: string, key: string, now: number): Promise<void> {
    await this.store.delete(accountId, embeddingsOf(userId), key, now);
  }

  /** Erases a user's vectors; returns how many there were. */
  erase(accountId: string, userId: string): Promise<number> {
    return this.store.purge(accountId, embeddingsOf(userId));
  }

  /**
   * The memories nearest to `q` by cosine, best first: every vector of the user is read and compared
   * (O(memories x dimensions) per search). A vector of another model or of older content is skipped
   * and its memory queued for embedding. Also answers which ETag each memory's current vector embeds.
   */
  async nearest(accountId: string, userId: string, q: string, query: { prefix?: string | undefined; limit: number }, now: number): Promise<{ hits: SearchHit[]; embedded: Map<string, string> }> {
    const [target] = await embedTexts(this.config, [q]);
    const embedded = new Map<string, string>();
    const scored: Array<{ key: string; score: number }> = [];
    const stale: string[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.store.entries(accountId, embeddingsOf(userId), { prefix: query.prefix, after, limit: PAGE }, now);
      for (const r of page) {
        const tag = parseVectorTag(r.tag);
        if (tag.model !== this.config.model || r.value.byteLength !== this.config.dimensions * 4) {
          stale.push(r.key);
          continue;
        }
        embedded.set(r.key, tag.etag);
        scored.push({ key: r.key, score: dot(target!, toFloats(r.value)) });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.key;
    }
    scored.sort((a, b) => b.score - a.score);
    const hits: SearchHit[] = [];
    // Read the best candidates' records; a vector of older content is not a hit (its memory is re-embedded).
    for (let i = 0; i < scored.length && hits.length < query.limit; i += query.limit) {
      const slice = scored.slice(i, i + query.limit);
      const records = await Promise.all(slice.map((s) => this.store.get(accountId, valuesOf(userId), s.key, now)));
      slice.forEach((s, j) => {
        const r = records[j];
        if (r && parseTag(r.tag).etag === embedded.get(s.key)) {
          if (hits.length < query.limit) hits.push({ record: r, score: s.score });
        } else if (r) stale.push(s.key);
      });
    }
    for (const key of stale.slice(0, LAZY_PER_SEARCH)) this.written(accountId, userId, key);
    return { hits, embedded };
  }

  /** Queues the lexical hits whose vector is missing or embeds older content (e.g. lost in a crash). */
  embedMissing(accountId: string, userId: string, hits: SearchHit[], embedded: Map<string, string>): void {
    let n = 0;
    for (const h of hits) {
      if (n >= LAZY_PER_SEARCH) return;
      if (embedded.get(h.record.key) !== toMemoryMeta(h.record).etag) (this.written(accountId, userId, h.record.key), n++);
    }
  }
}
