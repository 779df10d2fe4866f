// `aipaygent serve` as the real bin: what it prints at start, how it fails at boot (one line), and starting with the store down.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';
import { call } from '../support/mounts.js';
import { freePort, spawnCli, startServe, tempDir, type Served } from './support.js';

const FEATURES = ['memory', 'store', 'search', 'claude', 'payments', 'x402', 'signup', 'admin', 'metrics', 'mcp', 'webhooks', 'opentelemetry'];
/** A well-formed API key that no store has: authenticating it needs the store. */
const UNKNOWN_KEY = `apg_${'a'.repeat(24)}_${'B'.repeat(40)}`;
const redis = await redisUrlOrSkip();
const started: Served[] = [];
afterAll(() => Promise.all(started.map((s) => s.stop())));
const serve = async (env: Record<string, string>, args?: string[]) => {
  const s = await startServe(env, args);
  started.push(s);
  return s;
};

describe('serve, as a newcomer starts it (nothing configured)', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({});
  });

  it('prints one line per feature with on/off, then the listening line', () => {
    const lines = s.out.slice(0, FEATURES.length);
    expect(lines.map((l) => l.trim().split(':')[0])).toEqual(FEATURES);
    // The store is never off: its line says which one and how far it is shared instead.
    for (const line of lines) expect(line).toMatch(/^ {2}([a-z0-9]+: (on|off)|store: memory) \(.+\)$/);
    expect(s.out[FEATURES.length]).toMatch(/^aipaygent listening on http:\/\/\S+:\d+ \(store: memory/);
    // What is off says how to turn it on.
    expect(lines.find((l) => l.includes('claude:'))).toContain('ANTHROPIC_API_KEY');
    expect(lines.find((l) => l.includes('payments:'))).toContain('AIPAYGENT_RECEIVER');
    expect(s.err).toEqual([]);
  });

  it('prints a generated admin token and a first API key that work', async () => {
    await expect.poll(() => s.out.some((l) => l.startsWith('first API key: '))).toBe(true);
    const admin = s.out.find((l) => l.startsWith('admin token'))!.split(': ')[1]!;
    const key = s.out.find((l) => l.startsWith('first API key: '))!.split(': ')[1]!;
    expect((await call(`${s.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: 1 } })).status).toBe(200);
    expect((await call(`${s.url}/admin/keys`, { key: admin, body: {} })).status).toBe(201);
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
    expect((await call(`${s.url}/readyz`)).status).toBe(200);
  });

  it('SIGTERM: stops and exits 0', async () => {
    await s.stop();
    expect(s.child.exitCode).toBe(0);
  });
});

describe('serve that cannot start: exits non-zero at once with one line on stderr', () => {
  const tmp = tempDir();
  const prefix = `apgcli_${randomBytes(4).toString('hex')}:`;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
    tmp.remove();
    if (redis) await dropPrefix(redis, prefix);
  });

  const expectOneLine = (r: { code: number; err: string }, ...names: string[]) => {
    expect(r.code, r.err).not.toBe(0);
    const lines = r.err.trim().split('\n');
    expect(lines, r.err).toHaveLength(1);
    for (const name of names) expect(lines[0]).toContain(name);
    expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/);
  };

  it('a store that cannot be reached names the store', async () => {
    const closed = await freePort();
    const [redis, postgres] = await Promise.all([
      spawnCli(['serve', '--port', '0'], { AIPAYGENT_STORE: `redis://127.0.0.1:${closed}`, AIPAYGENT_STORE_TIMEOUT_MS: '300' }),
      spawnCli(['serve', '--port', '0'], { AIPAYGENT_STORE: `postgres://postgres@127.0.0.1:${closed}/postgres`, AIPAYGENT_STORE_TIMEOUT_MS: '300' }),
    ]);
    expectOneLine(redis, `redis://127.0.0.1:${closed}`, 'AIPAYGENT_START_WHEN_STORE_DOWN');
    expectOneLine(postgres, `postgres://***@127.0.0.1:${closed}/postgres`);
    expect(redis.out).not.toContain('listening');
  });

  it('a port already in use names the port, and the process exits though its store is open', async () => {
    // An open Redis connection keeps a process alive: the store must be closed for it to exit.
    const store = redis ?? `sqlite://${tmp.dir}/store.db`;
    const r = await spawnCli(['serve', '--port', String(busyPort), '--host', '127.0.0.1'], { AIPAYGENT_STORE: store, AIPAYGENT_STORE_PREFIX: prefix });
    expectOneLine(r, String(busyPort), 'in use');
  });

  it('a bad configuration names the variable', async () => {
    expectOneLine(await spawnCli(['serve', '--port', '0'], { AIPAYGENT_FREE_CALLS_PER_DAY: 'abc' }), 'AIPAYGENT_FREE_CALLS_PER_DAY');
  });
});

describe('serve with AIPAYGENT_START_WHEN_STORE_DOWN=1 and the store down', () => {
  let s: Served;
  beforeAll(async () => {
    // No AIPAYGENT_ADMIN_TOKEN, a shared store that is down: the server must still serve.
    s = await serve({ AIPAYGENT_STORE: `redis://127.0.0.1:${await freePort()}`, AIPAYGENT_STORE_TIMEOUT_MS: '300', AIPAYGENT_START_WHEN_STORE_DOWN: '1' });
  });

  it('says the store is down, once, without a stack trace, and keeps serving (no first key on a shared store)', async () => {
    await expect.poll(() => s.out.some((l) => l.startsWith('make API keys with:'))).toBe(true);
    // Before any request: the store warning, one line.
    expect(s.err, s.err.join('\n')).toHaveLength(1);
    expect(s.err[0]).toMatch(/^aipaygent: the store redis:\/\/127\.0\.0\.1:\d+ did not answer at startup .*calls answer 503 until it does$/);
    expect(s.out.find((l) => l.startsWith('make API keys with:'))).toMatch(/aipaygent keys create --url http:\/\/localhost:\d+$/);
    expect(s.out.some((l) => l.startsWith('admin token'))).toBe(true);
    expect(s.child.exitCode).toBe(null);
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
  });

  it('starts, answers 503 on a metered route and on /readyz, 200 on /healthz', async () => {
    const stored = await call(`${s.url}/memory/store`, { key: UNKNOWN_KEY, body: { user_id: 'u', key: 'k', data: 1 } });
    expect(stored.status).toBe(503);
    expect(stored.body.error.code).toBe('store_unavailable');
    const ready = await call(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('store_unavailable');
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
  });
});
