// Relays Anthropic's SSE stream unchanged while reading its usage; only usage and error events are parsed.
import { isObject } from '../memory/json-value.js';
import { upstreamId } from './answer.js';
import { applyUsage, emptyUsage, type TokenUsage } from './prices.js';

const encoder = new TextEncoder();

/**
 * Where an upstream body is read from, chunk by chunk: a web stream's reader, or a node stream read
 * directly (node-fetch.ts), which spares each chunk the web-stream machinery. `cancel` ends the body
 * (a pending read then ends or fails).
 */
export interface ChunkSource {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

const isChunkSource = (x: ReadableStream<Uint8Array> | ChunkSource): x is ChunkSource => typeof (x as ChunkSource).read === 'function';

/** The body as a ChunkSource (a web stream's reader is taken once: pass the result on, never the body again). */
export function chunkSource(body: ReadableStream<Uint8Array> | ChunkSource): ChunkSource {
  return isChunkSource(body) ? body : (body.getReader() as ChunkSource);
}

/** An SSE `error` event in Anthropic's framing. */
export function errorEvent(type: string, message: string): Uint8Array {
  return encoder.encode(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`);
}

/** An SSE comment: ignored by every SSE client, readable by people and tools. */
export const commentLine = (text: string): Uint8Array => encoder.encode(`: ${text}\n\n`);

/**
 * Watches the frames of a Messages stream. Text and tool deltas are only counted, never parsed:
 * the bulk of the stream costs one string scan.
 */
export class StreamUsage {
  /** Usage as last reported: `message_start`, then each cumulative `message_delta`. */
  readonly usage: TokenUsage = emptyUsage();
  messageId: string | null = null;
  /** `content_block_delta` events seen; each carries at least one output token. */
  deltas = 0;
  sawStart = false;
  sawFinalUsage = false;
  sawStop = false;
  /** Complete frames seen (events and comments). */
  frames = 0;
  /**
   * Set when an event we read (message_start, message_delta, error) is not a JSON object: the
   * upstream broke its protocol, and what it says about usage can no longer be followed.
   */
  malformed: string | null = null;
  /** The `error` event the upstream sent, if any. */
  error: { type: string; message: string } | null = null;
  /** `error` events seen (well-formed or not). */
  errors = 0;
  private readonly decoder = new TextDecoder();
  private pending = '';

  feed(chunk: Uint8Array): void {
    let buf = this.pending + this.decoder.decode(chunk, { stream: true });
    // Anthropic frames with "\n"; tolerate "\r\n" (a trailing "\r" waits for its "\n").
    if (buf.includes('\r')) {
      const tail = buf.endsWith('\r') ? '\r' : '';
      buf = buf.slice(0, buf.length - tail.length).replace(/\r\n?/g, '\n') + tail;
    }
    let start = 0;
    let end: number;
    while ((end = buf.indexOf('\n\n', start)) !== -1) {
      if (end > start) {
        this.frames++;
        this.frame(buf.slice(start, end));
      }
      start = end + 2;
    }
    this.pending = start === 0 ? buf : buf.slice(start);
  }

  /** What to bill: exact once the final `message_delta` came, else the usage seen so far. */
  billable(): TokenUsage {
    if (this.sawFinalUsage) return { ...this.usage };
    return { ...this.usage, output: Math.max(this.usage.output, this.deltas) };
  }

  private frame(f: string): void {
    const nl = f.indexOf('\n');
    const first = nl === -1 ? f : f.slice(0, nl);
    if (!first.startsWith('event:')) return;
    const name = first.slice(first.charCodeAt(6) === 32 ? 7 : 6);
    if (name === 'content_block_delta') {
      this.deltas++;
      return;
    }
    if (name === 'message_stop') {
      this.sawStop = true;
      return;
    }
    if (name !== 'message_start' && name !== 'message_delta' && name !== 'error') return;
    if (name === 'error') this.errors++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(dataOf(f));
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed) || (name === 'message_start' && !isObject(parsed.message))) {
      this.malformed ??= `a ${name} event that is not a JSON object${name === 'message_start' ? ' with a message' : ''}`;
      return;
    }
    const event = parsed as Record<string, any>;
    if (name === 'message_start') {
      this.sawStart = true;
      this.messageId = upstreamId(event.message.id);
      applyUsage(this.usage, event.message?.usage);
    } else if (name === 'message_delta') {
      this.sawFinalUsage = event.usage !== undefined;
      applyUsage(this.usage, event.usage);
    } else {
      this.error = { type: String(event.error?.type ?? 'api_error'), message: String(event.error?.message ?? '') };
    }
  }
}


/** The data of an SSE frame (several `data:` lines join with "\n"). */
function dataOf(frame: string): string {
  const parts: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('data:')) parts.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
  }
  return parts.join('\n');
}

/**
 * A chunk that carries an upstream `error` event, with `scrub` applied to its text (the operator's
 * secrets out of the upstream's message). Only such chunks are looked at, so the stream's bulk costs
 * nothing; a secret split across two chunks, or a character split at the chunk's edge, is the price.
 */
function scrubbed(chunk: Uint8Array, scrub: (text: string) => string): Uint8Array {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  const clean = scrub(text);
  return clean === text ? chunk : encoder.encode(clean);
}

export type RelayOutcome = 'complete' | 'stalled' | 'failed' | 'malformed' | 'cancelled';

/**
 * Yields `head` (chunks already read and fed to `tap`), then the upstream chunks as they arrive (the
 * consumer's pace is the backpressure: nothing is read ahead). A silence longer than `idleMs`, a
 * broken connection or a malformed event ends the stream with an `error` event (a malformed event is
 * passed on as it came, like every byte before it: what is billed is what was relayed). `finish` runs
 * exactly once: at the end, or when the consumer stops early (client gone); what it returns is sent
 * as the last chunk.
 */
export async function* relay(
  body: ReadableStream<Uint8Array> | ChunkSource,
  tap: StreamUsage,
  idleMs: number,
  finish: (outcome: RelayOutcome) => Promise<Uint8Array | null>,
  head: readonly Uint8Array[] = [],
  /** Applied to the chunks that carry an `error` event (see scrubbed). */
  scrub?: (text: string) => string,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = chunkSource(body);
  let stalled = false;
  let finished = false;
  // One timer for the whole stream, pushed back on every chunk; on expiry cancelling ends the pending read.
  const timer = setTimeout(() => {
    stalled = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  try {
    let outcome: RelayOutcome;
    for (const chunk of head) yield scrub && tap.errors > 0 ? scrubbed(chunk, scrub) : chunk;
    for (;;) {
      if (tap.malformed) {
        outcome = 'malformed';
        reader.cancel().catch(() => {});
        break;
      }
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch {
        // A source that errors when cancelled (a node stream destroyed) still counts the stall as a stall.
        outcome = stalled ? 'stalled' : 'failed';
        break;
      }
      if (stalled) {
        outcome = 'stalled';
        break;
      }
      if (r.done) {
        outcome = tap.sawStop || tap.error ? 'complete' : 'failed';
        break;
      }
      timer.refresh();
      const errors = tap.errors;
      tap.feed(r.value);
      yield scrub && tap.errors !== errors ? scrubbed(r.value, scrub) : r.value;
    }
    clearTimeout(timer);
    if (outcome === 'stalled') yield errorEvent('timeout_error', 'The upstream stream stalled and was closed.');
    else if (outcome === 'failed') yield errorEvent('api_error', 'The upstream stream ended unexpectedly.');
    else if (outcome === 'malformed') yield errorEvent('api_error', 'The upstream sent a malformed event; the stream was closed.');
    finished = true;
    const last = await finish(outcome);
    if (last) yield last;
  } finally {
    clearTimeout(timer);
    if (!finished) {
      finished = true;
      reader.cancel().catch(() => {});
      await finish('cancelled');
    }
  }
}

/** Reads a whole (JSON) body; a silence longer than `idleMs` or a broken connection is a failure. */
export async function readAll(body: ReadableStream<Uint8Array> | ChunkSource, idleMs: number): Promise<{ ok: true; text: string } | { ok: false; stalled: boolean }> {
  const reader = chunkSource(body);
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const r = await reader.read();
      if (stalled) return { ok: false, stalled: true };
      if (r.done) break;
      timer.refresh();
      chunks.push(r.value);
    }
  } catch {
    reader.cancel().catch(() => {});
    return { ok: false, stalled };
  } finally {
    clearTimeout(timer);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}
