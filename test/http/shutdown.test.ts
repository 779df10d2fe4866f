// Graceful shutdown: ai.close() lets the calls in flight finish (charged once, answered) before the store
// closes; calls that arrive meanwhile get a 503 at once; a call that outlives the timeout does not hold it up.
import { describe, expect, it, vi } from 'vitest';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import { DEFAULT_PRICING } from '../../src/config.js';
import type { CoreRequest } from '../../src/http/types.js';
import { faultyStore, newFaults, type Faults } from '../support/faulty-store.js';

function request(apiKey: string, method: string, path: string, query: string, body?: unknown): CoreRequest {
  return {
    method, path, query, headers: { authorization: `Bearer ${apiKey}` },
    body: body === undefined ? { kind: 'none' } : { kind: 'parsed', value: body }, signal: new AbortController().signal,
  };
}

/** A paid account whose next memory write waits for `release()`: one call held in flight. */
async function heldWrite(options: { logger?: { warn(m: string): void; error(m: string): void } } = {}) {
  const faults: Faults = newFaults();
  const ai: Aipaygent = createAipaygent({ store: faultyStore(faults), freeCallsPerDay: 0, ...options });
  const { api_key, account_id } = await ai.api.keys.create();
  await ai.api.ledger.grant({ accountId: account_id, amountMicroUsd: 10_000, reason: 'test' });
  let release!: () => void;
  faults.putGate = new Promise<void>((resolve) => (release = resolve));
  const putsBefore = faults.calls.put ?? 0;
  const inFlight = ai.handle(request(api_key, 'POST', '/memory/store', '', { user_id: 'u', key: 'k', data: { a: 1 } }));
  // Held once it reached the store's write (after its charge).
  await vi.waitFor(() => expect(faults.calls.put ?? 0).toBeGreaterThan(putsBefore));
  return { ai, apiKey: api_key, inFlight, release: () => { faults.putGate = undefined; release(); } };
}

describe('ai.close(): graceful shutdown', () => {
  it('waits for the call in flight, answers new calls 503 meanwhile, then closes', async () => {
    const { ai, apiKey, inFlight, release } = await heldWrite();
    let closed = false;
    const closing = ai.close().then(() => (closed = true));

    const refused = await ai.handle(request(apiKey, 'GET', '/memory/retrieve', 'user_id=u&key=k'));
    expect(refused?.status).toBe(503);
    expect(refused?.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused?.body as string)).toEqual({
      status: 'error', error: { code: 'store_unavailable', message: expect.stringMatching(/shutting down.*nothing was charged/) },
    });
    // Paths aipaygent does not serve still fall through to the host.
    expect(await ai.handle(request(apiKey, 'GET', '/not-ours', ''))).toBeUndefined();

    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const done = await inFlight;
    expect(done?.status).toBe(200);
    // Charged exactly once, as any call that ran to the end.
    expect(done?.headers['x-credits-balance-micro-usd']).toBe(String(10_000 - DEFAULT_PRICING['/memory/store']));
    await closing;
    expect(closed).toBe(true);
  });

  it('gives up waiting after timeoutMs, says so, and closes anyway', async () => {
    const warnings: string[] = [];
    const { ai, inFlight, release } = await heldWrite({ logger: { warn: (m) => void warnings.push(m), error: () => {} } });
    const started = Date.now();
    await ai.close({ timeoutMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(warnings).toEqual(['aipaygent: closing with calls still in flight after 100 ms; they will fail with 503']);
    release();
    await inFlight; // settles either way, never hangs
  });

  it('timeoutMs: Infinity waits as long as it takes; a negative or NaN timeout is refused', async () => {
    const { ai, inFlight, release } = await heldWrite();
    await expect(ai.close({ timeoutMs: -1 })).rejects.toThrow(TypeError);
    await expect(ai.close({ timeoutMs: Number.NaN })).rejects.toThrow(TypeError);
    let closed = false;
    const closing = ai.close({ timeoutMs: Infinity }).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    release();
    expect((await inFlight)?.status).toBe(200);
    await closing;
  });

  describe('a streamed answer (NDJSON export) counts until its reader is done with it', () => {
    async function exporting() {
      const ai = createAipaygent();
      const { api_key, account_id } = await ai.api.keys.create();
      for (const key of ['a', 'b', 'c']) await ai.api.memory.put(account_id, { userId: 'u', key, data: { key } }, Date.now());
      const res = await ai.handle(request(api_key, 'GET', '/memory/export', 'user_id=u'));
      expect(res?.status).toBe(200);
      let closed = false;
      const closing = ai.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(false);
      return { body: res!.body as AsyncIterable<string | Uint8Array>, closing, isClosed: () => closed };
    }

    it('read to the end: every line arrives (the store is still open), then close resolves', async () => {
      const { body, closing, isClosed } = await exporting();
      let text = '';
      for await (const chunk of body) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      expect(text.trim().split('\n').map((l) => JSON.parse(l).key)).toEqual(['a', 'b', 'c']);
      await closing;
      expect(isClosed()).toBe(true);
    });

    it('given up by its reader (the client left): close resolves without waiting for the timeout', async () => {
      const { body, closing } = await exporting();
      const it = body[Symbol.asyncIterator]();
      await it.next();
      const started = Date.now();
      await it.return!();
      await closing;
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  it('closes at once when nothing is in flight, and a second close is harmless', async () => {
    const ai = createAipaygent();
    await ai.ready;
    const started = Date.now();
    await Promise.all([ai.close(), ai.close()]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
