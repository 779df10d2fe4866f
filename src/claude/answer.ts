// What makes an upstream 2xx usable: a Message JSON with its usage, or an event stream whose first event is well-formed.
import { isObject } from '../memory/json-value.js';
import type { ChunkSource, StreamUsage } from './sse.js';

export type MessageCheck = { ok: true; id: string | null; usage: Record<string, unknown> } | { ok: false; why: string };

/**
 * An upstream message id fit for a ledger memo (Anthropic's are `msg_` + base62), else null: the
 * memo reaches the store, and a NUL or a megabyte there would make the settle itself fail.
 */
export const upstreamId = (v: unknown): string | null => (typeof v === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : null);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a non-streamed answer: a JSON object with a `content` array and a `usage` whose
 * `input_tokens` and `output_tokens` are integers. Anything else cannot be billed or shown.
 */
export function checkMessage(text: string): MessageCheck {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  if (!isObject(m)) return { ok: false, why: `JSON ${m === null ? 'null' : Array.isArray(m) ? 'array' : typeof m}, not a Message object` };
  if (!Array.isArray(m.content)) return { ok: false, why: 'a Message without a content array' };
  const u = m.usage;
  if (!isObject(u) || !isCount(u.input_tokens) || !isCount(u.output_tokens)) return { ok: false, why: 'a Message without integer usage.input_tokens and usage.output_tokens' };
  return { ok: true, id: upstreamId(m.id), usage: u };
}

/** How an event stream began: its first chunks (already fed to the tap), or why it is unusable. */
export type StreamStart = { ok: true; head: Uint8Array[] } | { ok: false; why: 'stalled' | 'failed' | 'ended' | 'malformed' };

/**
 * Reads until the first complete frame, feeding `tap`, before any byte goes to the client: a stream
 * that is empty, breaks or is malformed from its start is then an HTTP error (502/504), not a 200
 * carrying an error event. Anthropic sends message_start at once, so this delays nothing.
 */
export async function streamStart(reader: ChunkSource, tap: StreamUsage, idleMs: number): Promise<StreamStart> {
  const head: Uint8Array[] = [];
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  try {
    while (tap.frames === 0) {
      let r: Awaited<ReturnType<ChunkSource['read']>>;
      try {
        r = await reader.read();
      } catch {
        return { ok: false, why: stalled ? 'stalled' : 'failed' };
      }
      if (stalled) return { ok: false, why: 'stalled' };
      if (r.done) return { ok: false, why: 'ended' };
      timer.refresh();
      tap.feed(r.value);
      head.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (tap.malformed) {
    reader.cancel().catch(() => {});
    return { ok: false, why: 'malformed' };
  }
  return { ok: true, head };
}
