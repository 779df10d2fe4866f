// Startup as an operator meets it: an unreachable store fails `ready` at once with its reason (or, with startWhenStoreDown,
// answers 503 until the store comes), health and readiness, features that are off say how to turn them on, 402s name real ways to pay.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAipaygent } from '../../src/create.js';
import { StartupError } from '../../src/optional.js';
import type { Store } from '../../src/storage/contract.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { ADMIN_TOKEN, call, startMount } from '../support/mounts.js';
import { freePort, startOwnRedis, type OwnServer } from '../support/own-servers.js';

const noRedis = spawnSync('redis-server', ['--version']).status !== 0;
if (noRedis && process.env.REQUIRE_BACKENDS === '1') throw new Error('redis-server is not installed; REQUIRE_BACKENDS=1 forbids skipping');

describe('a store that does not answer at startup', () => {
  it('fails ready at once with a StartupError naming the store and the reason (Redis, Postgres)', async () => {
    const port = await freePort(); // nothing listens there
    for (const store of [`redis://127.0.0.1:${port}`, `postgres://app:secret@127.0.0.1:${port}/db`]) {
      const ai = createAipaygent({ store, logger: { warn: () => {}, error: () => {} } });
      const started = Date.now();
      const error = await ai.ready.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StartupError);
      const message = (error as Error).message;
      expect(message).toMatch(/did not answer at startup \(.*ECONNREFUSED.*\)/);
      expect(message).toContain(store.replace('app:secret@', '***@'));
      expect(message).not.toContain('secret');
      expect(message).toContain('startWhenStoreDown');
      // The refusal is the reason: no waiting for a timeout.
      expect(Date.now() - started).toBeLessThan(2500);
      await ai.close();
    }
  });

  it.skipIf(noRedis)('with startWhenStoreDown: answers 503 (readyz too) until the store comes, then serves without a restart', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const m = await startMount('core', { parsed: false, prefix: '', options: { store: `redis://127.0.0.1:${port}`, storePrefix: 'apgstart:', startWhenStoreDown: true, storeTimeoutMs: 500, logger: { warn: (s) => void warnings.push(s), error: () => {} } } });
    let redis: OwnServer | undefined;
    try {
      expect(warnings.join('\n')).toMatch(/did not answer at startup.*calls answer 503 until it does/);
      expect((await call(`${m.url}/healthz`)).status).toBe(200);
      const ready = await call(`${m.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe('store_unavailable');
      const refused = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
      expect(refused.status).toBe(503);
      redis = await startOwnRedis(port);
      await expect.poll(async () => (await call(`${m.url}/readyz`)).status, { timeout: 10_000, interval: 200 }).toBe(200);
      const created = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
      expect(created.status).toBe(201);
      const stored = await call(`${m.url}/memory/store`, { key: created.body.api_key, body: { user_id: 'u', key: 'k', data: 1 } });
      expect(stored.status).toBe(200);
      expect(warnings.join('\n')).toMatch(/answers again; serving/);
    } finally {
      await m.close();
      await redis?.stop();
    }
  });
});

describe('health and readiness', () => {
  it('/healthz is up; /readyz probes the store within its timeout, and says 503 once shutdown began', async () => {
    let hang = false;
    const inner = new MemoryStore();
    // A store that stops answering reads of counters (the readiness probe) while `hang` is set.
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'counter') return (...a: unknown[]) => (hang ? new Promise(() => {}) : inner.counter(...(a as Parameters<Store['counter']>)));
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Store;
    const ai = createAipaygent({ store, storeTimeoutMs: 200 });
    const m = await startMount('express5', { parsed: true, prefix: '/ai', ai });
    try {
      expect((await call(`${m.url}/healthz`)).body).toEqual({ status: 'ok' });
      const ready = await call(`${m.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', store: { backend: 'memory' } });
      hang = true;
      const t0 = Date.now();
      const stuck = await call(`${m.url}/readyz`);
      expect(stuck.status).toBe(503);
      expect(stuck.body.error.message).toMatch(/did not answer in time/);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect((await call(`${m.url}/healthz`)).status).toBe(200); // liveness never asks the store
      hang = false;
      const closing = ai.close();
      const during = await call(`${m.url}/readyz`);
      expect(during.status).toBe(503);
      await closing;
    } finally {
      await m.close();
    }
  });
});

describe('features that are off', () => {
  it('answer 404 naming the option that turns them on, in the route\'s own error shape, and are not documented', async () => {
    const m = await startMount('express5', { parsed: true, prefix: '/ai', options: { adminToken: undefined } });
    try {
      const claude = await call(`${m.url}/claude/message`, { body: { messages: [{ role: 'user', content: 'hi' }] } });
      expect(claude.status).toBe(404);
      expect(claude.body.error.message).toMatch(/Claude proxy is not enabled.*claude\.apiKey.*ANTHROPIC_API_KEY/);
      // The Anthropic-compatible route answers Anthropic's error JSON (an SDK shows its message), never the host's HTML page.
      const sdk = await call(`${m.url}/v1/messages`, { body: {}, headers: { 'x-api-key': 'x' } });
      expect(sdk.status).toBe(404);
      expect(sdk.body).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
      expect(sdk.body.error.message).toMatch(/claude\.apiKey/);
      for (const [method, path, option] of [['GET', '/buy-credits', 'payments.receiver'], ['POST', '/buy-credits', 'payments.receiver'], ['POST', '/admin/keys', 'adminToken'], ['GET', '/metrics', 'metricsToken']]) {
        const r = await call(`${m.url}${path}`, { method, ...(method === 'POST' && { body: {} }) });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code).toBe('not_found');
        expect(r.body.error.message, `${method} ${path}`).toContain(option);
      }
      const doc = (await call(`${m.url}/openapi.json`)).body;
      for (const path of ['/claude/message', '/v1/messages', '/buy-credits', '/admin/keys', '/metrics']) expect(doc.paths[path], path).toBeUndefined();
      expect(doc.paths['/healthz']).toBeDefined();
      expect(doc.paths['/readyz']).toBeDefined();
    } finally {
      await m.close();
    }
  });

  it('a 402 names the operator contact when the server sells no credits', async () => {
    const ai = createAipaygent({ freeCallsPerDay: 0, operatorContact: 'billing@example.com' });
    const m = await startMount('core', { parsed: false, prefix: '', ai });
    try {
      const { api_key } = await ai.api.keys.create();
      const r = await call(`${m.url}/memory/store`, { key: api_key, body: { user_id: 'u', key: 'k', data: 1 } });
      expect(r.status).toBe(402);
      expect(r.body.error.message).toMatch(/Ask this server's operator for credits \(billing@example\.com\)\.$/);
      expect(r.body.payment.buy).toEqual({ balance: { method: 'GET', path: '/credits/balance' }, online_purchase: false, note: expect.any(String), contact: 'billing@example.com' });
      expect(r.body.payment.x402).toBeUndefined();
      expect((await call(`${m.url}/discover`)).body.operator_contact).toBe('billing@example.com');
    } finally {
      await m.close();
    }
  });
});

describe('an Express app that does not await ready', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apg-boot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a small host app (the README's quick start, without `await ai.ready`) and returns how it ended. */
  async function host(store: string, adapterOptions = ''): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const file = join(dir, `app-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(file, `
      import express from ${JSON.stringify(new URL('../../node_modules/express/index.js', import.meta.url).pathname)};
      import { createAipaygent } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).pathname)};
      import { aipaygentExpress } from ${JSON.stringify(new URL('../../adapters/express.ts', import.meta.url).pathname)};
      const app = express();
      app.use('/ai', aipaygentExpress(createAipaygent({ store: ${JSON.stringify(store)} })${adapterOptions}));
      const server = app.listen(0, () => console.log('listening'));
      setTimeout(() => { console.log('still up'); server.close(); }, 3000);
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stderr, stdout };
  }

  it('stops at boot with the one-line reason (fail fast), unless the host takes the error itself', async () => {
    const port = await freePort();
    const failed = await host(`redis://127.0.0.1:${port}`);
    expect(failed.code).toBe(1);
    expect(failed.stdout).not.toContain('still up');
    expect(failed.stderr).toContain(`AipaygentStartupError: aipaygent: the store redis://127.0.0.1:${port} did not answer at startup`);
    expect(failed.stderr).not.toMatch(/^\s+at /m); // the reason, not a stack trace
    const kept = await host(`redis://127.0.0.1:${port}`, ', { onStartupError: (e) => console.log("handled:", e.message) }');
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('handled: aipaygent: the store');
    expect(kept.stdout).toContain('still up');
  }, 30_000);
});
