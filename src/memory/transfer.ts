// Export (NDJSON, streamed page by page) and import (NDJSON read line by line) of one user's memories.
import { isUtf8 } from 'node:buffer';
import { setImmediate } from 'node:timers/promises';
import type { Store } from '../storage/contract.js';
import { TimeSlice } from '../time-slice.js';
import { iso } from '../time.js';
import { decodeJson } from './codec.js';
import { refuse, type Refusal } from './draft.js';
import { DAY_MS, expiryAt, toMemoryMeta, ttlMsOf, valuesOf } from './meta.js';

/** Records per page of an export: bounds what is held in memory at once, whatever the user's size. */
const EXPORT_PAGE = 200;

/**
 * NDJSON of every live memory of a user, one record a line:
 * `{"key","data","version","etag","size","created_at","updated_at","expires_at","ttl_days"}`.
 * Yields one chunk per page: nothing beyond a page is ever buffered.
 */
export async function* exportNdjson(store: Store, accountId: string, userId: string, now: number): AsyncGenerator<string> {
  const collection = valuesOf(userId);
  let after: string | undefined;
  for (;;) {
    const page = await store.list(accountId, collection, { after, limit: EXPORT_PAGE }, now);
    const records = await Promise.all(page.map((m) => store.get(accountId, collection, m.key, now)));
    let chunk = '';
    for (const record of records) {
      if (!record) continue; // deleted or expired since the listing
      const m = toMemoryMeta(record);
      const head = JSON.stringify({ key: m.key });
      const tail = JSON.stringify({
        version: m.version, etag: m.etag, size: m.size, created_at: iso(m.createdAt), updated_at: iso(m.updatedAt),
        expires_at: m.expiresAt === null ? null : iso(m.expiresAt), ttl_days: m.ttlMs === null ? null : m.ttlMs / DAY_MS,
      });
      // The stored JSON text is spliced in as is, like retrieve does.
      chunk += `${head.slice(0, -1)},"data":${await decodeJson(record.value)},${tail.slice(1)}\n`;
    }
    if (chunk) yield chunk;
    if (page.length < EXPORT_PAGE) return;
    // With a synchronous store (SQLite, in-memory) and a socket that never pushes back, the whole export
    // would run as one chain of microtasks and starve every other request: give the event loop a turn.
    await setImmediate();
    after = page[page.length - 1]!.key;
  }
}

/** One line of an import, validated by the caller. `undefined` fields fall back to defaults. */
export interface ImportRecord {
  key: string;
  /** JSON text of the value. */
  text: string;
  /** Absolute expiry (null: never); undefined: from `ttlMs`. */
  expiresAt?: number | null | undefined;
  ttlMs?: number | null | undefined;
}

export type ImportLineResult = 'imported' | 'skipped' | 'expired';

/** Why an imported record's expiry is one a store could not give (null: it could), by the store's TTL rules. */
export function importTtlRefusal(rec: ImportRecord, now: number, maxTtlDays: number, ttlAllowed: (ttlMs: number | null) => boolean): Refusal | null {
  const never = rec.ttlMs === null ? 'ttl_days' : rec.expiresAt === null ? 'expires_at' : undefined;
  if (never !== undefined && !ttlAllowed(null)) {
    return refuse('invalid_request', `${never}: null (never expires) is not allowed: memories expire within ${maxTtlDays} days on this server (memory.maxTtlDays)`);
  }
  if (typeof rec.ttlMs === 'number' && !ttlAllowed(rec.ttlMs)) return refuse('invalid_request', `ttl_days must be at most ${maxTtlDays}`);
  if (typeof rec.expiresAt === 'number' && rec.expiresAt > (expiryAt(ttlMsOf(maxTtlDays), now) as number)) {
    return refuse('invalid_request', `expires_at ${new Date(rec.expiresAt).toISOString()} is more than ${maxTtlDays} days away (memory.maxTtlDays)`);
  }
  return null;
}

export interface ImportCounts {
  lines: number;
  imported: number;
  skipped: number;
  expired: number;
}

export type ImportOutcome = ({ ok: true } & ImportCounts) | ({ ok: false; refusal: Refusal; line: number } & ImportCounts);

export interface ImportDeps {
  /** Longest line accepted, in bytes. */
  maxLineBytes: number;
  /** Writes in flight at once. */
  concurrency: number;
  parse(line: string): ImportRecord | Refusal;
  write(record: ImportRecord): Promise<ImportLineResult | Refusal>;
  signal?: AbortSignal | undefined;
}

const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'code' in x && 'message' in x;

/**
 * Reads NDJSON chunks and writes each line, a bounded number at a time. Stops at the first bad
 * line: the lines before it stay imported (an import overwrites, so sending it again is safe).
 * Linear in the body however it is cut into chunks, and never holds the event loop for long.
 */
export async function importNdjson(chunks: AsyncIterable<Uint8Array>, deps: ImportDeps): Promise<ImportOutcome> {
  const counts: ImportCounts = { lines: 0, imported: 0, skipped: 0, expired: 0 };
  const inFlight = new Set<Promise<void>>();
  let failure: { refusal: Refusal; line: number } | undefined;
  // The start of the line being read: its pieces are joined once, when its end arrives (joining at
  // every chunk would copy a line dribbled in small chunks once per chunk: quadratic).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const slice = new TimeSlice();

  const tooLong = (no: number) => ({ refusal: { code: 'payload_too_large' as const, message: `line ${no} is longer than ${deps.maxLineBytes} bytes` }, line: no });
  const handle = async (line: string, no: number) => {
    const record = deps.parse(line);
    const result = isRefusal(record) ? record : await deps.write(record);
    if (isRefusal(result)) failure ??= { refusal: { ...result, message: `line ${no}: ${result.message}` }, line: no };
    else counts[result]++;
  };
  const submit = async (tail: Buffer) => {
    const bytes = pending.length ? Buffer.concat([...pending, tail], pendingBytes + tail.length) : tail;
    pending = [];
    pendingBytes = 0;
    if (bytes.length > deps.maxLineBytes) return void (failure ??= tooLong(counts.lines + 1));
    // Decoding would turn each invalid sequence into U+FFFD: the value stored would not be the one sent.
    if (!isUtf8(bytes)) return void (failure ??= { refusal: { code: 'invalid_request', message: `line ${counts.lines + 1}: not valid UTF-8` }, line: counts.lines + 1 });
    const line = bytes.toString('utf8').trim();
    if (!line) return;
    const no = ++counts.lines;
    const task = handle(line, no).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= deps.concurrency) await Promise.race(inFlight);
    await slice.pass();
  };

  let complete: boolean;
  try {
    complete = await readLines();
  } catch (error) {
    // The body failed (too large, client gone): let the writes already started finish first.
    await Promise.allSettled(inFlight);
    throw error;
  }
  // A client gone before its body ended did not send an import: refused (and so not charged), whatever was written.
  if (!complete) failure ??= { refusal: { code: 'invalid_request', message: 'the body was not received in full: the client closed the connection' }, line: counts.lines + 1 };
  if (!failure && pending.length) await submit(Buffer.alloc(0));
  await Promise.all(inFlight);
  return failure ? { ok: false, ...failure, ...counts } : { ok: true, ...counts };

  /** Reads the body line by line; false when the client went away before its end. */
  async function readLines(): Promise<boolean> {
    for await (const chunk of chunks) {
      if (deps.signal?.aborted) return false;
      let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // "\n" never occurs inside a multi-byte UTF-8 sequence, so splitting bytes on it is safe.
      for (let nl = data.indexOf(10); nl !== -1 && !failure; nl = data.indexOf(10)) {
        await submit(data.subarray(0, nl));
        data = data.subarray(nl + 1);
      }
      if (failure) break;
      if (data.length) {
        // A copy: the rest of a large chunk must not keep the whole chunk alive.
        pending.push(Buffer.from(data));
        pendingBytes += data.length;
      }
      if (pendingBytes > deps.maxLineBytes) {
        failure = tooLong(counts.lines + 1);
        break;
      }
    }
    return true;
  }
}
