// The HTTP memory and search suites on a real Redis Cluster, with accounts spread over all three masters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchConformance } from '../search/search-suite.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';
import { canStartCluster, startCluster, type OwnCluster } from '../support/redis-cluster.js';
import { memoryConformance } from './memory-suite.js';

const run = canStartCluster();
(run ? describe : describe.skip)('memory and search on a Redis Cluster [express5]', () => {
  let cluster: OwnCluster | undefined;
  let mounted: Mounted | undefined;
  beforeAll(async () => {
    cluster = await startCluster();
    mounted = await startMount('express5', { parsed: true, prefix: '/ai', options: { store: cluster.url, storePrefix: 'apghc:', multiProcess: true, storeTimeoutMs: 5000 } });
  });
  afterAll(async () => {
    await mounted?.close();
    await cluster?.stop();
  });
  memoryConformance(() => mounted!);
  searchConformance(() => mounted!);

  it('accounts spread over every master (each holds keys of some account)', async () => {
    for (let i = 0; i < 12; i++) {
      const { body } = await call(`${mounted!.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
      expect((await call(`${mounted!.url}/memory/store`, { key: body.api_key, body: { user_id: 'u', key: 'k', data: i } })).status).toBe(200);
    }
    const masters = await cluster!.masters();
    expect(masters).toHaveLength(3);
    for (const m of masters) expect(Number((await cluster!.cli(m.port, 'DBSIZE')).trim())).toBeGreaterThan(0);
  });
});
