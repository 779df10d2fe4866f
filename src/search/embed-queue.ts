// Background embedding: jobs queued after writes are embedded in batches, off every request's path,
// with a timeout, retries with backoff, and an event per outcome (the metric of GET /metrics).
import type { Events } from '../observe/events.js';
import type { EmbedderConfig } from './options.js';

/** One text to embed and where its vector goes. */
export interface EmbedJob {
  /** Dedupe id: a newer job with the same id replaces a pending one (the newest content wins). */
  id: string;
  /** Reads the text to embed at run time (null: nothing to embed any more, e.g. the memory was deleted). */
  text(): Promise<string | null>;
  /** Stores the vector. */
  save(vector: Float32Array): Promise<void>;
  attempts: number;
}

/** Most jobs waiting: beyond it new ones are dropped (counted; a search that meets them queues them again). */
const MAX_PENDING = 100_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Checks one answer of `embed` and normalizes it to unit length (so a dot product is the cosine). */
export function toUnitVector(v: unknown, dimensions: number): Float32Array {
  if (!Array.isArray(v) || v.length !== dimensions) throw new Error(`embed returned a vector of ${Array.isArray(v) ? v.length : typeof v} values; search.dimensions is ${dimensions}`);
  const out = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = v[i] as unknown;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error('embed returned a value that is not a finite number');
    out[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dimensions; i++) out[i]! /= norm;
  return out;
}

/** Calls `embed` once, bounded by the configured timeout, and checks every vector. */
export async function embedTexts(config: EmbedderConfig, texts: string[]): Promise<Float32Array[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`embed took longer than ${config.timeoutMs} ms`)), config.timeoutMs);
  });
  try {
    const vectors = await Promise.race([config.embed(texts), timeout]);
    if (!Array.isArray(vectors) || vectors.length !== texts.length) throw new Error(`embed returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts`);
    return vectors.map((v) => toUnitVector(v, config.dimensions));
  } finally {
    clearTimeout(timer);
  }
}

export class EmbedQueue {
  private readonly pending = new Map<string, EmbedJob>();
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly config: EmbedderConfig,
    private readonly events: Events,
    private readonly logger: { warn(message: string): void },
  ) {}

  get size(): number {
    return this.pending.size;
  }

  add(job: Omit<EmbedJob, 'attempts'>): void {
    if (this.closed) return;
    if (!this.pending.has(job.id) && this.pending.size >= MAX_PENDING) return this.events.emit({ type: 'embedding', outcome: 'dropped', count: 1 });
    this.pending.delete(job.id);
    this.pending.set(job.id, { ...job, attempts: 0 });
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Resolves when nothing is pending (tests, and a graceful close that wants the work done). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  private async drain(): Promise<void> {
    // Yield first: a burst of writes lands in one batch, and no write waits for this.
    await sleep(0);
    while (this.pending.size && !this.closed) {
      const batch = [...this.pending.values()].slice(0, this.config.batchSize);
      for (const j of batch) this.pending.delete(j.id);
      await this.run(batch);
    }
  }

  private async run(batch: EmbedJob[]): Promise<void> {
    const texts = await Promise.all(batch.map((j) => j.text().catch(() => null)));
    const jobs = batch.filter((_, i) => texts[i] !== null);
    if (!jobs.length) return;
    try {
      const vectors = await embedTexts(this.config, texts.filter((t): t is string => t !== null));
      const saved = await Promise.allSettled(jobs.map((j, i) => j.save(vectors[i]!)));
      const ok = saved.filter((s) => s.status === 'fulfilled').length;
      if (ok) this.events.emit({ type: 'embedding', outcome: 'embedded', count: ok });
      if (ok < jobs.length) this.events.emit({ type: 'embedding', outcome: 'failed', count: jobs.length - ok });
    } catch (error) {
      this.logger.warn(`aipaygent: embedding ${jobs.length} memories failed: ${(error as Error).message}`);
      const again = jobs.filter((j) => ++j.attempts < this.config.attempts && !this.pending.has(j.id));
      if (again.length) this.events.emit({ type: 'embedding', outcome: 'retried', count: again.length });
      if (jobs.length > again.length) this.events.emit({ type: 'embedding', outcome: 'failed', count: jobs.length - again.length });
      if (!again.length) return;
      // Backoff before the retry, capped: a provider that is down is not hammered.
      await sleep(Math.min(30_000, 250 * 2 ** again[0]!.attempts));
      for (const j of again) if (!this.pending.has(j.id) && !this.closed) this.pending.set(j.id, j);
    }
  }
}
