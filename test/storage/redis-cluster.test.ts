// The storage conformance suite (search included) on a Redis Cluster of three masters, through a cluster client. A
// script reaching a key another node serves fails there (Redis refuses non-local keys, declared or derived: records
// of index entries, search postings), so this run shows every script stays on its account's node; that each key is in
// its account's hash tag, hence slot, is checked by name in redis.test.ts and redis-search.test.ts.
import { randomUUID } from 'node:crypto';
import { createCluster } from '@keyv/redis';
import { RedisStore } from '../../src/storage/redis-store.js';
import type { RedisLike } from '../../src/storage/redis-base.js';
import { canStartRedis, startOwnRedisCluster } from '../support/own-servers.js';
import { storageConformance } from './conformance.js';

storageConformance('redis cluster', async () => {
  if (!canStartRedis()) return null;
  const cluster = await startOwnRedisCluster(3);
  const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
  client.on('error', () => {});
  await client.connect();
  const store = new RedisStore(client as unknown as RedisLike, { timeoutMs: 10_000, prefix: `apgcluster:${randomUUID().slice(0, 8)}:` }, false);
  return {
    store,
    cleanup: async () => {
      await client.close();
      await cluster.stop();
    },
  };
});
