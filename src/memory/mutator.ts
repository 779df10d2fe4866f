// Read-modify-write of one memory under concurrency: a per-key queue batches this process's mutations,
// and a compare-and-set loop (bounded retries, jittered backoff) makes them safe across processes.
import { jsonProblem, jsonProblemMessage } from '../json-limits.js';
import type { Store } from '../storage/contract.js';
import { decodeJson, encodeJson } from './codec.js';
import { Draft, refuse, type Refusal } from './draft.js';
import type { History } from './history.js';
import { expiryAt, toMemoryMeta, valuesOf, type MemoryMeta } from './meta.js';
import { preconditionHolds, type Precondition } from './preconditions.js';
import { formatTag } from './tag.js';

/** One change to a memory, applied to the current state (or refused, leaving the draft unchanged). */
export interface Mutation {
  /** Operation name recorded in the history. */
  op: string;
  precondition?: Precondition | undefined;
  apply(draft: Draft): Refusal | null;
  /** Facts for the caller's response, read from the final state of its batch (e.g. an array's length). */
  describe?(draft: Draft): Record<string, unknown>;
  /** Applied in a batch of its own (a delete: what follows it must not be folded into it). */
  alone?: boolean;
}

export interface Target {
  accountId: string;
  userId: string;
  key: string;
}

/** What the caller of a mutation gets: the memory after the write (null: it no longer exists). */
export type MutationOutcome =
  | { ok: true; meta: MemoryMeta | null; written: boolean; facts: Record<string, unknown> }
  | { ok: false; refusal: Refusal; current: MemoryMeta | null };

export interface MutatorOptions {
  maxValueBytes: number;
  /** Deepest nesting a value may be left with (a body's limit minus the level `data` sits at). */
  maxDepth: number;
  compressAboveBytes: number;
  defaultTtlMs: number | null;
  /** Compare-and-set attempts before giving up with a 503 (each one re-reads the memory). @default 64 */
  maxAttempts?: number;
  /** The search document of a written value (undefined: search is off, no index is kept). */
  index?: ((key: string, value: unknown) => string) | undefined;
}

interface Entry {
  mutation: Mutation;
  resolve(outcome: MutationOutcome): void;
  reject(error: unknown): void;
  /** Run alone: its batch was too large as a whole, so each entry is judged on its own. */
  solo?: boolean;
}

/**
 * A batch whose result breaks a limit: its entries are run again one by one (the limit may be one
 * entry's doing), and a lone entry is refused.
 */
function refuseBatch(batch: Entry[], refusal: Refusal, current: MemoryMeta | null): Entry[] | undefined {
  if (batch.length > 1) return batch.map((e) => ({ ...e, solo: true }));
  batch[0]!.resolve({ ok: false, refusal, current });
  return undefined;
}

/** Largest batch applied in one write: bounds the work one CAS attempt can waste. */
const MAX_BATCH = 256;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Mutator {
  private readonly queues = new Map<string, Entry[]>();
  private readonly maxAttempts: number;

  constructor(
    private readonly store: Store,
    private readonly history: History,
    private readonly opts: MutatorOptions,
  ) {
    this.maxAttempts = opts.maxAttempts ?? 64;
  }

  /**
   * Applies `mutation` atomically. Mutations of the same memory arriving while a write is in flight
   * are applied together in the next write (one CAS for many appends), in arrival order.
   */
  run(target: Target, mutation: Mutation): Promise<MutationOutcome> {
    const id = `${target.accountId}\u0000${target.userId}\u0000${target.key}`;
    return new Promise<MutationOutcome>((resolve, reject) => {
      const entry: Entry = { mutation, resolve, reject };
      const queue = this.queues.get(id);
      if (queue) return void queue.push(entry);
      const fresh = [entry];
      this.queues.set(id, fresh);
      void this.drain(id, target, fresh);
    });
  }

  private async drain(id: string, target: Target, queue: Entry[]): Promise<void> {
    while (queue.length) {
      let size = 1;
      if (!queue[0]!.solo && !queue[0]!.mutation.alone) while (size < queue.length && size < MAX_BATCH && !queue[size]!.mutation.alone) size++;
      const batch = queue.splice(0, size);
      try {
        const again = await this.apply(target, batch);
        if (again) queue.unshift(...again);
      } catch (error) {
        for (const e of batch) e.reject(error);
      }
    }
    this.queues.delete(id);
  }

  /** Runs one batch to completion; returns entries to requeue one by one when the batch as a whole was too large. */
  private async apply(t: Target, batch: Entry[]): Promise<Entry[] | undefined> {
    const collection = valuesOf(t.userId);
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      const record = await this.store.get(t.accountId, collection, t.key, now);
      const before = record && toMemoryMeta(record);
      const draft = new Draft(record && before && { text: await decodeJson(record.value), etag: before.etag, ttlMs: before.ttlMs }, this.opts.defaultTtlMs);
      const refusals = batch.map((e) => {
        const m = e.mutation;
        if (m.precondition && !preconditionHolds(m.precondition, draft.exists, () => draft.currentEtag())) {
          return refuse('precondition_failed', draft.exists ? 'The memory has changed: its ETag does not match the condition' : 'The condition does not hold: the memory does not exist');
        }
        const refusal = m.apply(draft);
        if (!refusal) draft.ops.push(m.op);
        return refusal;
      });
      const facts = batch.map((e, i) => (refusals[i] === null && e.mutation.describe ? e.mutation.describe(draft) : {}));
      // A refused entry is told the state after its batch: that is what a retry will be compared with.
      const settle = (meta: MemoryMeta | null, written: boolean) =>
        batch.forEach((e, i) => e.resolve(refusals[i] ? { ok: false, refusal: refusals[i]!, current: written ? meta : before } : { ok: true, meta, written, facts: facts[i]! }));
      if (!draft.changed) {
        settle(before, false);
        return undefined;
      }
      // Whatever a mutation built (an append path, a patch's copies, an edited text), nothing is stored that a
      // store or an import would refuse: not too deep, no number JSON cannot hold.
      const built = draft.builtValue();
      const { maxDepth, maxValueBytes } = this.opts;
      const problem = built === undefined ? null : jsonProblem(built, maxDepth);
      if (problem) {
        const why = problem.kind === 'depth' ? `The result would be nested deeper than ${maxDepth} levels, the most a memory's data may have` : jsonProblemMessage('The result', problem, maxDepth);
        return refuseBatch(batch, refuse('invalid_request', why), before);
      }
      const text = draft.currentText();
      let committed: MemoryMeta | null | undefined;
      if (text === null) {
        const r = before ? await this.store.delete(t.accountId, collection, t.key, now, { version: before.version }) : { ok: true as const };
        if (r.ok) committed = null;
      } else {
        const size = Buffer.byteLength(text, 'utf8');
        if (size > maxValueBytes) return refuseBatch(batch, refuse('payload_too_large', `The result would be ${size} bytes of JSON; the limit is ${maxValueBytes}`), before);
        const encoded = await encodeJson(text, this.opts.compressAboveBytes);
        const expiresAt = expiryAt(draft.ttlMs, now);
        const tag = formatTag({ etag: encoded.etag, ttlMs: draft.ttlMs });
        const expect = before ? { version: before.version } : { absent: true as const };
        const index = this.opts.index?.(t.key, draft.getValue());
        const r = await this.store.put(t.accountId, collection, t.key, { value: encoded.value, size, tag, expiresAt, index }, now, expect);
        if (r.ok) {
          committed = toMemoryMeta(r.record);
          const operation = [...new Set(draft.ops)].join('+');
          await this.history.record(t.accountId, t.userId, t.key, Object.assign({}, committed, { value: encoded.value, operation, restoredFrom: draft.restoredFrom }), now);
        }
      }
      if (committed !== undefined) {
        settle(committed, true);
        return undefined;
      }
      if (attempt >= this.maxAttempts) {
        const busy = refuse('store_unavailable', `The memory changed ${attempt} times while this write retried; try again`);
        batch.forEach((e) => e.resolve({ ok: false, refusal: busy, current: null }));
        return undefined;
      }
      // Full jitter (AWS style): random wait up to an exponentially growing cap, so contenders spread out.
      await sleep(Math.random() * Math.min(100, 2 ** attempt));
    }
  }
}
