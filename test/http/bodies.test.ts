// Request bodies under hostile clients: a stalled body is a 408, bodies in flight are capped (503 before reading), a large
// body is not read before its key is known to be live, an import stopped early drains the rest of its body (the connection
// lives on), and 200 uploads with an unknown key leave the server's memory flat.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMount, type Mounted } from '../support/mounts.js';
import { startStandalone, type Standalone } from '../support/standalone.js';

/** Sends the head of a POST and `sent` bytes of a body that declares `declared` bytes; resolves with the raw answer once the server ends it. */
function upload(url: string, opts: { key: string; declared: number; sent: number; path?: string; headers?: string }): { socket: Socket; answer: Promise<string> } {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  const head = `POST ${pathname.replace(/\/$/, "")}${opts.path ?? '/memory/store'} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${opts.key}\r\n` +
    `${opts.headers ?? 'Content-Type: application/json\r\n'}Content-Length: ${opts.declared}\r\n\r\n`;
  socket.write(head);
  if (opts.sent > 0) socket.write(Buffer.alloc(opts.sent, 0x20));
  // The whole answer (head and a Content-Length body), or what came before the server closed the connection.
  const answer = new Promise<string>((resolve) => {
    let raw = '';
    const done = () => {
      socket.destroy();
      resolve(raw);
    };
    socket.on('data', (d: Buffer) => {
      raw += d.toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(raw)?.[1];
      if (end !== -1 && length !== undefined && raw.length - end - 4 >= Number(length)) done();
    });
    socket.on('close', () => resolve(raw));
  });
  return { socket, answer };
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
const jsonOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, ''));

describe('bodies we read ourselves', () => {
  let m: Mounted;
  let key: string;
  beforeAll(async () => {
    m = await startMount('core', { parsed: false, prefix: '', options: { limits: { bodyTimeoutMs: 400, maxBodyBytes: 64 * 1024, maxValueBytes: 60 * 1024, maxBodyBytesInFlight: 128 * 1024 } } });
    key = (await m.ai.api.keys.create()).api_key;
  });
  afterAll(() => m?.close());

  it('a body that stalls is a 408 in the error shape after bodyTimeoutMs, and its connection is closed', async () => {
    const t0 = Date.now();
    const { answer } = upload(m.url, { key, declared: 1000, sent: 10 });
    const raw = await answer;
    expect(statusOf(raw)).toBe(408);
    expect(raw).toMatch(/\r\nconnection: close\r\n/i);
    expect(jsonOf(raw)).toMatchObject({ status: 'error', error: { code: 'request_timeout' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a streamed import that stalls is a 408 too, with an Idempotency-Key as without (its replay check reads the body in time as well)', async () => {
    for (const idempotency of ['', 'Idempotency-Key: stall-1\r\n', 'Idempotency-Key: stall-1\r\n']) {
      const { answer } = upload(m.url, { key, declared: 1000, sent: 10, path: '/memory/import?user_id=u', headers: `Content-Type: application/x-ndjson\r\n${idempotency}` });
      const raw = await answer;
      expect(statusOf(raw), idempotency || 'no key').toBe(408);
      expect(jsonOf(raw).error.code).toBe('request_timeout');
    }
  });

  it('caps the bytes of bodies in flight: past maxBodyBytesInFlight a new body is a 503 with Retry-After, before it is read', async () => {
    // Two stalled bodies of 64 KiB declared fill the 128 KiB budget.
    const held = [upload(m.url, { key, declared: 64 * 1024, sent: 100 }), upload(m.url, { key, declared: 64 * 1024, sent: 100 })];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const refused = upload(m.url, { key, declared: 200, sent: 0 });
    const raw = await refused.answer;
    expect(Date.now() - t0).toBeLessThan(300); // not read, not waited on
    expect(statusOf(raw)).toBe(503);
    expect(raw).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(jsonOf(raw).error.code).toBe('server_busy');
    // Once the stalled ones timed out (408), the budget is free again.
    for (const h of held) expect(statusOf(await h.answer)).toBe(408);
    const body = JSON.stringify({ user_id: 'u', key: 'k', data: 'fits now' });
    const res = await fetch(`${m.url}/memory/store`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
  });

  it('reads a body above 64 KiB (or chunked) only once its key proved live: an unknown key is refused before any byte', async () => {
    const unknown = `apg_${'a'.repeat(24)}_${'A'.repeat(40)}`;
    // Declares 1 MiB and sends none of it: the 401 comes anyway, and the connection closes.
    const refused = upload(m.url, { key: unknown, declared: 1024 * 1024, sent: 0 });
    const raw = await refused.answer;
    expect(statusOf(raw)).toBe(401);
    expect(jsonOf(raw).error.code).toBe('unauthorized');
    // A live key with a body of that size class is read as usual.
    const data = 'x'.repeat(59 * 1024);
    const ok = await fetch(`${m.url}/memory/store`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 'u', key: 'big', data }) });
    expect(ok.status).toBe(200);
    // Chunked (no Content-Length) is "large" too: same check.
    const chunked = await fetch(`${m.url}/memory/store`, {
      method: 'POST', headers: { authorization: `Bearer ${unknown}`, 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{"user_id":"u"')), c.close()) }),
    } as RequestInit);
    expect(chunked.status).toBe(401);
  });

  it('a body refused unread (unknown key) is answered "Connection: close": the client never reuses the connection we may cut', async () => {
    const unknown = `apg_${'a'.repeat(24)}_${'A'.repeat(40)}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Just past the 64 KiB a refused body may still send: all of it is on its way when the answer comes.
      const body = JSON.stringify({ user_id: 'u', key: 'k', data: 'x'.repeat(66_000) });
      const refused = await exchange(m.url, agent, '/memory/store', { key: unknown, type: 'application/json', body });
      expect(refused.status).toBe(401);
      expect(refused.headers.connection).toBe('close');
      const next = await exchange(m.url, agent, '/memory/list?user_id=u', { key });
      expect(next.status).toBe(200);
      expect(next.socket).not.toBe(refused.socket);
    } finally {
      agent.destroy();
    }
  });

  it('an import refused at its first line drains the unread rest of its body: the same connection answers the next request', async () => {
    // Line 1 is refused at once; line 2 (150 KB) is still arriving and is never parsed, but must be read
    // to its end or the connection can never parse its next request (it used to stall until the socket died).
    const body = `{"key":"a","data":1,"expires_at":null}\n{"key":"b","data":"${'x'.repeat(150_000)}"}\n`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await exchange(m.url, agent, '/memory/import?user_id=u', { key, type: 'application/x-ndjson', body });
      expect(first.status).toBe(400);
      expect(JSON.parse(first.text)).toMatchObject({ status: 'error', error: { code: 'invalid_request' }, line: 1 });
      const second = await exchange(m.url, agent, '/memory/list?user_id=u', { key });
      expect(second.status).toBe(200);
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });
});

/** One request through `agent` (keep-alive, one socket): status, body text, and the socket that carried it. */
function exchange(url: string, agent: Agent, path: string, opts: { key: string; type?: string; body?: string }) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string; socket: unknown }>((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.key}` };
    if (opts.type) headers['content-type'] = opts.type;
    const req = request({ host: hostname, port, path, method: opts.body === undefined ? 'GET' : 'POST', headers, agent }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, socket: res.socket }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('200 uploads of 1 MiB with a well-formed but unknown key (issue 15, case 2)', () => {
  let s: Standalone;
  beforeAll(async () => {
    s = await startStandalone({ AIPAYGENT_ADMIN_TOKEN: 'bodies-test-admin-token-0123' });
  });
  afterAll(() => s?.stop());

  const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

  it('leaves the server\'s RSS within 50 MB of its start', async () => {
    const unknown = `apg_${'b'.repeat(24)}_${'B'.repeat(40)}`;
    // Warm up (the first requests grow the heap a little whatever they carry).
    for (let i = 0; i < 20; i++) await fetch(`${s.url}/memory/list?user_id=u`, { headers: { authorization: `Bearer ${unknown}` } });
    const before = rssOf(s.child.pid!);
    const uploads = Array.from({ length: 200 }, () => upload(`${s.url}/`, { key: unknown, declared: 1024 * 1024, sent: Number(process.env.SENT ?? 1024 * 1024) }));
    const answers = await Promise.all(uploads.map((u) => u.answer));
    // Refused unread, and every client reads its 401: the server reads on and drops what is still sent
    // (lingering close) instead of resetting the connection under the answer.
    const statuses = answers.map(statusOf);
    expect(statuses.filter((st) => st !== 401)).toEqual([]);
    const after = rssOf(s.child.pid!);
    console.log(`RSS before ${(before / 1e6).toFixed(1)} MB, after 200 x 1 MiB uploads with an unknown key ${(after / 1e6).toFixed(1)} MB`);
    expect(after - before).toBeLessThan(50e6);
  }, 60_000);
});
