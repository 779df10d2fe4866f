// No client mistake is ever a 5xx: random bodies, queries and headers against every route.
import { expect, it } from 'vitest';
import { call, startMount } from '../support/mounts.js';

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const SAMPLES: unknown[] = [null, true, 0, -1, 1e308, 'x', '', [], {}, [[[]]], { a: null }, 'é\u0000', { __proto__: 1 }, Number.MAX_SAFE_INTEGER];

it('answers random input on every route with a 2xx/4xx in the error shape, never a 5xx', async () => {
  const m = await startMount('core', { parsed: false, prefix: '' });
  try {
    const { api_key: key } = await m.ai.api.keys.create();
    const routes = [['POST', '/memory/store'], ['GET', '/memory/retrieve'], ['GET', '/memory/list'], ['DELETE', '/memory/delete'], ['DELETE', '/memory/user'], ['POST', '/admin/keys'], ['DELETE', '/admin/keys/x']] as const;
    const fields = ['user_id', 'key', 'data', 'ttl_days', 'limit', 'cursor', 'prefix', 'account_id', 'label'];
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let i = 0; i < 400; i++) {
      const [method, path] = pick(routes);
      const body: Record<string, unknown> = {};
      const query = new URLSearchParams();
      for (const f of fields) {
        if (rand() < 0.5) body[f] = pick(SAMPLES);
        if (rand() < 0.4) query.append(f, String(pick(SAMPLES)));
      }
      const raw = rand() < 0.1 ? '{"broken": ' : rand() < 0.05 ? '\u0000\u0001' : JSON.stringify(body);
      const r = await call(`${m.url}${path}?${query}`, { method, key: rand() < 0.9 ? key : 'apg_bad', raw: method === 'GET' ? undefined : raw });
      expect(r.status, `${method} ${path}?${query} ${raw}`).toBeLessThan(500);
      if (r.status >= 400) expect(r.body).toMatchObject({ status: 'error', error: { code: expect.any(String), message: expect.any(String) } });
    }
  } finally {
    await m.close();
  }
});
