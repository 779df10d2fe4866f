// The storage conformance suite (search included) on a real Redis Cluster (3 masters, 3 replicas) started by the test,
// through our own cluster client (redis-cluster:// URL). A script reaching a key another node serves fails there (Redis
// refuses non-local keys), so this run shows every script stays on its account's node; that each key is in its account's
// hash tag, hence slot, is checked by name in redis.test.ts and redis-search.test.ts.
import { openStore } from '../../src/storage/open.js';
import { canStartCluster, startCluster } from '../support/redis-cluster.js';
import { storageConformance } from './conformance.js';

storageConformance('redis cluster (3 masters, 3 replicas)', async () => {
  if (!canStartCluster()) return null;
  const cluster = await startCluster();
  const store = await openStore(cluster.url, { timeoutMs: 10_000, prefix: 'apgcl:' });
  return {
    store,
    async cleanup() {
      await store.close();
      await cluster.stop();
    },
  };
});
