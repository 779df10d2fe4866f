// The storage conformance suite on a real Redis Cluster (3 masters, 3 replicas) started by the test.
import { openStore } from '../../src/storage/open.js';
import { canStartCluster, startCluster } from '../support/redis-cluster.js';
import { storageConformance } from './conformance.js';

storageConformance('redis cluster (3 masters, 3 replicas)', async () => {
  if (!canStartCluster()) return null;
  const cluster = await startCluster();
  const store = await openStore(cluster.url, { timeoutMs: 5000, prefix: 'apgcl:' });
  return {
    store,
    async cleanup() {
      await store.close();
      await cluster.stop();
    },
  };
});
