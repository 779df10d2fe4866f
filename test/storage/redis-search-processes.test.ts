// Search on Redis through the service and across processes: erasing a user leaves no key of their index, and
// concurrent writers and searchers in three processes never see a stale hit or miss an acknowledged write.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc } from '../../src/storage/redis-base.js';
import type { RedisStore } from '../../src/storage/redis-store.js';
import { glob, scanKeys, useRedisStore, type AdminClient } from '../support/redis-keys.js';
import { startMount } from '../support/mounts.js';

const run = promisify(execFile);
type Client = AdminClient;


describe('redis search through the service and across processes', () => {
  let url: string | null = null;
  let store: RedisStore;
  let admin: Client;
  const prefix = `apgsearchp:${randomUUID().slice(0, 8)}:`;

  const fx = useRedisStore(prefix);
  beforeAll(() => void ({ url, store, admin } = fx));

  it('erasing a user through the service leaves no key of their records or index; another user keeps theirs', async (ctx) => {
    if (!url) return ctx.skip();
    const storePrefix = `apgerase_${randomUUID().slice(0, 8)}:`;
    const m = await startMount('core', { parsed: false, prefix: '', options: { store: url, storePrefix, freeCallsPerDay: 1_000_000 } });
    try {
      const { api_key: key } = await m.ai.api.keys.create();
      const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
        fetch(`${m.url}${path}`, {
          method: init.method ?? (init.body ? 'POST' : 'GET'),
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, any> }));
      for (const user of ['gone', 'stays']) {
        for (let i = 0; i < 30; i++) {
          const data = { topic: `kafka streams ${i}`, framework: i % 2 ? 'FastAPI' : 'Django', note: 'prefers dark mode' };
          expect((await call('/memory/store', { body: { user_id: user, key: `memo_${i}`, data } })).status).toBe(200);
        }
      }
      const found = await call('/memory/search?user_id=gone&q=fastapi&limit=100');
      expect(found.status).toBe(200);
      expect(found.body.results).toHaveLength(15);
      const ofUser = async (user: string) => (await scanKeys(admin, `${glob(storePrefix)}*`)).filter((k) => k.includes(`:${enc(`m:${user}`)}`));
      const before = await ofUser('gone');
      for (const kind of ['r', 'i', 'd', 's', 'w', 't']) expect(before.some((k) => k.includes(`}:${kind}:`)), kind).toBe(true);
      expect((await call('/memory/user?user_id=gone', { method: 'DELETE' })).body.deleted_keys).toBe(30);
      expect(await ofUser('gone')).toEqual([]);
      expect((await call('/memory/search?user_id=gone&q=fastapi')).body.results).toEqual([]);
      expect((await call('/memory/search?user_id=stays&q=fastapi&limit=100')).body.results).toHaveLength(15);
      expect((await ofUser('stays')).length).toBe(before.length);
    } finally {
      await m.close();
      const keys = await scanKeys(admin, `${glob(storePrefix)}*`);
      if (keys.length) await admin.unlink(keys);
    }
  });

  it('3 processes writing and searching at once: every hit holds the searched word, every acknowledged write is found', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `procs_${randomUUID().slice(0, 8)}`;
    const src = (p: string) => JSON.stringify(new URL(`../../src/${p}`, import.meta.url).href);
    const worker = `
      const { redisStoreFromUrl } = await import(${src('storage/redis-store.ts')});
      const { documentText } = await import(${src('search/document.ts')});
      const { parseQuery } = await import(${src('search/query.ts')});
      const store = await redisStoreFromUrl(process.env.URL, { timeoutMs: 20000, prefix: process.env.PREFIX });
      await store.init();
      const W = process.env.W, A = process.env.ACCT, failures = [];
      const search = (q, limit = 20) => store.search(A, 'm:c', { units: parseQuery(q), limit }, Date.now());
      const words = (h) => JSON.parse(new TextDecoder().decode(h.record.value));
      await Promise.all([0, 1, 2].map(async (j) => {
        const key = 'p' + W + 'k' + j;
        for (let i = 0; i < 40; i++) {
          const word = 'w' + W + 'k' + j + 'x' + i, prev = 'w' + W + 'k' + j + 'x' + (i - 1);
          const data = { word, common: 'shared', other: 'noise ' + i };
          const r = await store.put(A, 'm:c', key, { value: new TextEncoder().encode(JSON.stringify(data)), size: 1, tag: '', expiresAt: null, index: documentText(key, data) }, Date.now());
          if (!r.ok) failures.push(key + ' refused');
          const [now, before, shared] = await Promise.all([search(word), search(prev), search('shared', 100)]);
          if (!now.some((h) => h.record.key === key)) failures.push(word + ' acknowledged but not found');
          for (const h of now) if (words(h).word !== word) failures.push(word + ' hit ' + h.record.key + ' holding ' + words(h).word);
          if (i > 0 && before.some((h) => h.record.key === key)) failures.push(prev + ' found after its overwrite');
          for (const h of shared) if (words(h).common !== 'shared') failures.push('shared hit without the word');
        }
      }));
      await store.close();
      console.log(JSON.stringify(failures));`;
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const outs = await Promise.all([0, 1, 2].map((w) =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', worker], { env: { ...process.env, URL: url!, PREFIX: prefix, ACCT: a, W: String(w) }, cwd })));
    expect(outs.flatMap((o) => JSON.parse(o.stdout.trim()) as string[])).toEqual([]);
    const all = await store.search(a, 'm:c', { units: [{ words: ['share'], prefix: false }], limit: 100 }, Date.now());
    expect(all.map((h) => h.record.key).sort()).toEqual([0, 1, 2].flatMap((w) => [0, 1, 2].map((j) => `p${w}k${j}`)).sort());
  }, 120_000);
});
