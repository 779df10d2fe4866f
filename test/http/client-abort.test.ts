// A client that aborts its upload (body half sent, then the socket closed) is not an error of ours: no stack in the log, no charge.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MOUNTS, startMount, type Mounted } from '../support/mounts.js';

const PRICE = 100;

/** Sends the head and `sent` of a body announced as `length` bytes, then closes the socket. */
async function abortedUpload(m: Mounted, path: string, apiKey: string, contentType: string, sent: string, length: number): Promise<void> {
  const { port } = new URL(m.url);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const head = [
    `POST ${m.prefix}${path} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${apiKey}`, `Content-Type: ${contentType}`, `Content-Length: ${length}`, '', '',
  ].join('\r\n');
  await new Promise<void>((resolve, reject) => socket.write(head + sent, (e) => (e ? reject(e) : resolve())));
  return new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    // Let the server start reading the body before the client goes.
    setTimeout(() => socket.destroy(), 50);
  });
}

function captured() {
  const lines: Array<{ level: string; message: string; detail: unknown }> = [];
  const push = (level: string) => (message: string, detail?: unknown) => void lines.push({ level, message, detail });
  return { lines, logger: { warn: push('warn'), error: push('error') } };
}

/** At most one short line, never an error, never a stack. */
function quiet(lines: Array<{ level: string; message: string; detail: unknown }>): void {
  expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  expect(lines.length).toBeLessThanOrEqual(1);
  for (const l of lines) {
    expect(l.message).not.toMatch(/\n/);
    expect(l.detail === undefined || !(l.detail instanceof Error)).toBe(true);
  }
}

for (const spec of MOUNTS) {
  describe(`aborted uploads [${spec.kind}${spec.parsed ? ', host-parsed body' : ''}]`, () => {
    async function setup() {
      const { lines, logger } = captured();
      const m = await startMount(spec.kind, { parsed: spec.parsed, prefix: spec.prefix, options: { freeCallsPerDay: 0, logger } });
      const { api_key, account_id } = await m.ai.api.keys.create();
      await m.ai.api.ledger.grant({ accountId: account_id, amountMicroUsd: 10 * PRICE, reason: 'test' });
      return { m, lines, apiKey: api_key, account: account_id };
    }
    /** Waits for every call in flight (ai.close drains them), then reads the account's balance and closes the host. */
    async function settle(m: Mounted, account: string): Promise<number> {
      await m.ai.close({ timeoutMs: 5000 });
      const { balanceMicroUsd } = await m.ai.api.ledger.balance(account);
      m.server.closeAllConnections();
      await new Promise<void>((r) => m.server.close(() => r()));
      return balanceMicroUsd;
    }

    it('a JSON route (POST /memory/store): nothing logged as an error, nothing charged', async () => {
      const { m, lines, apiKey, account } = await setup();
      await abortedUpload(m, '/memory/store', apiKey, 'application/json', '{"user_id":"u","key":"k","data":"aaaa', 400);
      expect(await settle(m, account)).toBe(10 * PRICE);
      quiet(lines);
    });

    it('the streamed NDJSON import (POST /memory/import): the call is not charged, nothing logged as an error', async () => {
      const { m, lines, apiKey, account } = await setup();
      const body = '{"key":"a","data":1}\n{"key":"b","data":2}\n{"key":"c","da';
      await abortedUpload(m, '/memory/import?user_id=u', apiKey, 'application/x-ndjson', body, 10_000);
      expect(await settle(m, account)).toBe(10 * PRICE);
      quiet(lines);
    });
  });
}

describe('importNdjson: the client leaving mid-body', () => {
  it('is a refusal (not a partial success), whether the stream throws or the signal fires first; a whole body still counts its last line', async () => {
    const { importNdjson } = await import('../../src/memory/transfer.js');
    const enc = (s: string) => Buffer.from(s);
    const written: string[] = [];
    const deps = (signal?: AbortSignal) => ({
      maxLineBytes: 1024, concurrency: 4, signal,
      parse: (line: string) => ({ key: (JSON.parse(line) as { key: string }).key, text: '1' }),
      write: async (rec: { key: string }) => (written.push(rec.key), 'imported' as const),
    });
    const ac = new AbortController();
    const cut = await importNdjson((async function* () {
      yield enc('{"key":"a"}\n');
      ac.abort();
      yield enc('{"key":"b"}\n{"key":"c"');
    })(), deps(ac.signal));
    expect(cut).toMatchObject({ ok: false, refusal: { code: 'invalid_request', message: expect.stringMatching(/client closed the connection/) } });
    expect(written).toEqual(['a']);

    // The client left after sending all of it: the import is whole, its last line (no newline) included.
    written.length = 0;
    const late = new AbortController();
    const whole = await importNdjson((async function* () {
      yield enc('{"key":"a"}\n{"key":"b"}');
      late.abort();
    })(), deps(late.signal));
    expect(whole).toMatchObject({ ok: true, lines: 2, imported: 2 });
  });
});
