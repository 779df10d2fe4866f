// Reading a Redis keyspace in tests: every key matching a pattern (SCAN, never KEYS), and a prefix as a literal glob.
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll } from 'vitest';
import { redisStoreFromUrl, type RedisStore } from '../../src/storage/redis-store.js';
import { redisUrlOrSkip } from './backends.js';

export type AdminClient = ReturnType<typeof createClient>;

/** Every key matching `pattern`. */
export async function scanKeys(client: AdminClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const reply = await client.scan(cursor, { MATCH: pattern, COUNT: 1000 });
    out.push(...reply.keys);
    cursor = String(reply.cursor);
  } while (cursor !== '0');
  return out;
}

/** `s` with the glob characters of SCAN MATCH escaped. */
export const glob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * A Redis store under its own prefix for one describe block, and an admin client to look at its keys:
 * opened before its tests (url null when Redis is not there: the tests skip), every key of the prefix
 * removed and both closed after.
 */
export function useRedisStore(prefix: string): { url: string | null; store: RedisStore; admin: AdminClient } {
  const fx = { url: null as string | null, store: undefined as unknown as RedisStore, admin: undefined as unknown as AdminClient };
  beforeAll(async () => {
    fx.url = await redisUrlOrSkip();
    if (!fx.url) return;
    fx.store = await redisStoreFromUrl(fx.url, { timeoutMs: 10_000, prefix });
    await fx.store.init();
    fx.admin = createClient({ url: fx.url });
    fx.admin.on('error', () => {});
    await fx.admin.connect();
  });
  afterAll(async () => {
    if (!fx.url) return;
    await fx.store.close();
    const keys = await scanKeys(fx.admin, `${glob(prefix)}*`);
    if (keys.length) await fx.admin.unlink(keys);
    await fx.admin.close();
  });
  return fx;
}
