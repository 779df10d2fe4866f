// No client mistake on the new memory routes is ever a 5xx: random bodies, queries and condition headers.
import { expect, it } from 'vitest';
import { call, startMount } from '../support/mounts.js';

function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const SAMPLES: unknown[] = [
  null, true, 0, -1, 1e308, 'x', '', [], {}, [[[]]], { a: null }, 'é\u0000', { __proto__: 1 }, Number.MAX_SAFE_INTEGER, '/a/b', '/~2', '-',
  [{ op: 'add', path: '/a', value: 1 }], [{ op: 'test', path: '', value: {} }], [{ op: 'move', from: '/a', path: '/a/b' }], [1, 2, 3], { a: { b: null } },
];
const HEADERS = ['*', '"x"', 'W/"x"', 'garbage', '"a", "b"', ''];

it('answers random input on append, patch, history, restore, export and import with 2xx/4xx, never 5xx', async () => {
  const m = await startMount('core', { parsed: false, prefix: '', options: { freeCallsPerDay: 1_000_000, limits: { maxValueBytes: 2048 } } });
  try {
    const { api_key: key } = await m.ai.api.keys.create();
    const routes = [
      ['POST', '/memory/append'], ['PATCH', '/memory/patch'], ['POST', '/memory/patch'], ['GET', '/memory/history'], ['POST', '/memory/restore'],
      ['GET', '/memory/export'], ['POST', '/memory/import'], ['POST', '/memory/store'], ['DELETE', '/memory/delete'], ['GET', '/memory/retrieve'],
    ] as const;
    const fields = ['user_id', 'key', 'path', 'items', 'max_items', 'ttl_days', 'patch', 'operations', 'version', 'data', 'include_data', 'refresh_on_read', 'skip_existing'];
    const rand = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let i = 0; i < 600; i++) {
      const [method, path] = pick(routes);
      const body: Record<string, unknown> = { user_id: 'u', key: pick(['k', 'j']) };
      const query = new URLSearchParams({ user_id: 'u', key: 'k' });
      for (const f of fields) {
        if (rand() < 0.4) body[f] = pick(SAMPLES);
        if (rand() < 0.15) query.set(f, String(pick(SAMPLES)));
      }
      const headers: Record<string, string> = {};
      if (rand() < 0.3) headers['if-match'] = pick(HEADERS);
      if (rand() < 0.2) headers['if-none-match'] = pick(HEADERS);
      if (path === '/memory/import') headers['content-type'] = pick(['application/x-ndjson', 'application/json', 'text/plain']);
      const raw = path === '/memory/import'
        ? Array.from({ length: 3 }, () => (rand() < 0.7 ? JSON.stringify({ key: pick(['a', 'b', '']), data: pick(SAMPLES), ttl_days: pick([undefined, 1, -1, 'x']) }) : String(pick(SAMPLES)))).join('\n')
        : rand() < 0.1 ? '{"broken": ' : JSON.stringify(body);
      const r = await call(`${m.url}${path}?${query}`, { method, key, headers, raw: method === 'GET' || method === 'DELETE' ? undefined : raw });
      expect(r.status, `${method} ${path}?${query} ${JSON.stringify(headers)} ${raw}`).toBeLessThan(500);
      if (r.status >= 400) expect(r.body).toMatchObject({ status: 'error', error: { code: expect.any(String), message: expect.any(String) } });
    }
  } finally {
    await m.close();
  }
});
