// Unit tests: usage read from SSE frames however they are chunked, and the relay's endings.
import { describe, expect, it } from 'vitest';
import { relay, StreamUsage, type RelayOutcome } from '../../src/claude/sse.js';
import { frame, message, streamFrames } from '../support/fake-anthropic.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const msg = message({ text: 'héllo wörld 👋', usage: { input_tokens: 120, output_tokens: 42, cache_read_input_tokens: 30 } });
const wire = streamFrames(msg, ['hé', 'llo w', 'örld ', '👋']).join('');

/** A web ReadableStream that yields `parts`, each after `delayMs`, then (optionally) fails or hangs. */
function source(parts: Uint8Array[], opts: { delayMs?: number; end?: 'close' | 'error' | 'hang' } = {}): ReadableStream<Uint8Array> {
  let i = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (cancelled) return;
      if (i < parts.length) return controller.enqueue(parts[i++]!);
      if (opts.end === 'error') return controller.error(new Error('socket reset'));
      if (opts.end === 'hang') return new Promise(() => {});
      controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
}

async function drain(body: ReadableStream<Uint8Array>, tap: StreamUsage, idleMs = 1000) {
  const outcomes: RelayOutcome[] = [];
  let text = '';
  for await (const c of relay(body, tap, idleMs, async (o) => (outcomes.push(o), enc.encode(': done\n\n')))) text += dec.decode(c, { stream: true });
  return { text, outcomes };
}

describe('StreamUsage', () => {
  it('reads the same usage whatever the chunk boundaries (every split point, multi-byte characters included)', () => {
    const bytes = enc.encode(wire);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const tap = new StreamUsage();
      tap.feed(bytes.subarray(0, cut));
      tap.feed(bytes.subarray(cut));
      expect(tap.billable()).toMatchObject({ input: 120, output: 42, cacheRead: 30 });
      expect(tap).toMatchObject({ messageId: msg.id, deltas: 4, sawStart: true, sawStop: true, sawFinalUsage: true });
    }
    const one = new StreamUsage();
    for (const b of bytes) one.feed(Uint8Array.of(b));
    expect(one.billable().output).toBe(42);
  });

  it('accepts CRLF framing', () => {
    const tap = new StreamUsage();
    tap.feed(enc.encode(wire.replaceAll('\n', '\r\n')));
    expect(tap.billable()).toMatchObject({ input: 120, output: 42 });
    expect(tap.sawStop).toBe(true);
  });

  it('before the final message_delta, bills at least one token per delta seen', () => {
    const tap = new StreamUsage();
    const frames = streamFrames(msg, ['a', 'b', 'c', 'd', 'e']);
    tap.feed(enc.encode(frames.slice(0, 7).join('')));
    expect(tap.billable()).toMatchObject({ input: 120, output: 4 });
  });

  it('records an upstream error event', () => {
    const tap = new StreamUsage();
    tap.feed(enc.encode(frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })));
    expect(tap.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
  });
});

describe('relay', () => {
  it('passes every byte on unchanged and ends with what finish returns', async () => {
    const parts = [enc.encode(wire.slice(0, 50)), enc.encode(wire.slice(50))];
    const { text, outcomes } = await drain(source(parts), new StreamUsage());
    expect(text).toBe(wire + ': done\n\n');
    expect(outcomes).toEqual(['complete']);
  });

  it('ends a stream cut short with an error event', async () => {
    const cut = streamFrames(msg).slice(0, 4).join('');
    const { text, outcomes } = await drain(source([enc.encode(cut)], { end: 'error' }), new StreamUsage());
    expect(text).toBe(`${cut}event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The upstream stream ended unexpectedly."}}\n\n: done\n\n`);
    expect(outcomes).toEqual(['failed']);
    const closed = await drain(source([enc.encode(cut)]), new StreamUsage());
    expect(closed.outcomes).toEqual(['failed']);
  });

  it('closes a stalled stream after the idle time', async () => {
    const cut = streamFrames(msg).slice(0, 4).join('');
    const started = Date.now();
    const { text, outcomes } = await drain(source([enc.encode(cut)], { end: 'hang' }), new StreamUsage(), 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(text).toContain('"type":"timeout_error"');
    expect(outcomes).toEqual(['stalled']);
  });

  it('a slow but steady stream is not stalled: the idle timer restarts on every chunk', async () => {
    const parts = streamFrames(msg).map((f) => enc.encode(f));
    const { outcomes } = await drain(source(parts, { delayMs: 60 }), new StreamUsage(), 150);
    expect(outcomes).toEqual(['complete']);
  });

  it('settles once with "cancelled" when the consumer stops early, and cancels the upstream', async () => {
    const outcomes: RelayOutcome[] = [];
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(enc.encode(frame('ping', { type: 'ping' }))),
      cancel: () => void (cancelled = true),
    });
    for await (const _ of relay(body, new StreamUsage(), 1000, async (o) => (outcomes.push(o), null))) break;
    expect(outcomes).toEqual(['cancelled']);
    expect(cancelled).toBe(true);
  });
});
