// The storage conformance suite (search included) on a real Redis Cluster (3 masters, 3 replicas) started by the test,
// through our own cluster client (redis-cluster:// URL). A script reaching a key another node serves fails there (Redis
// refuses non-local keys), so this run shows every script stays on its account's node; that each key is in its account's
// hash tag, hence slot, is checked by name in redis.test.ts and redis-search.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { canStartCluster, startCluster, type OwnCluster } from '../support/redis-cluster.js';
import { storageConformance } from './conformance.js';

// One cluster for the file, stopped once every suite in it ran.
let started: Promise<OwnCluster> | undefined;
const cluster = () => (started ??= startCluster());
afterAll(async () => {
  if (started) await (await started).stop();
});

storageConformance('redis cluster (3 masters, 3 replicas)', async () => {
  if (!canStartCluster()) return null;
  const store = await openStore((await cluster()).url, { timeoutMs: 10_000, prefix: 'apgcl:' });
  return { store, cleanup: () => store.close() };
});

describe('redis cluster outbox index (a hint from the process, repaired by scanning the masters)', () => {
  const row = (n: string) => ({ id: `evt_${n}.ep1`, eventId: `evt_${n}`, endpoint: 'ep1', type: 'credits.granted', data: '{}' });

  it('a write is claimable at once by its hint; a hint lost to a crash is found by the next process scanning the masters', async (ctx) => {
    if (!canStartCluster()) return ctx.skip();
    const c = await cluster();
    const prefix = 'apgclob:';
    const first = await openStore(c.url, { timeoutMs: 10_000, prefix });
    await first.init();
    const now = Date.now();
    const claim = (s: typeof first) => s.outbox!.claim(now + 1000, now + 60_000, 100);
    try {
      expect(await claim(first)).toEqual([]); // the first claim scans the masters: nothing yet
      await first.post('acct_hinted', { amount: 1, kind: 'grant', events: { done: [row('hinted')] } }, now);
      expect((await claim(first)).map((d) => d.id)).toEqual(['evt_hinted.ep1']);
      // A process that crashed between its script and its hint: the rows are there, the index does not know them.
      await first.post('acct_lost', { amount: 1, kind: 'grant', events: { done: [row('lost')] } }, now);
      const due = `${prefix}outbox-due`;
      const port = await c.masterOf(Number((await c.cli(c.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', due)).trim()));
      await c.cli(port, 'ZREM', due, 'acct_lost');
      expect(await claim(first)).toEqual([]); // scanned less than a minute ago: it trusts the index
      const second = await openStore(c.url, { timeoutMs: 10_000, prefix });
      await second.init();
      expect((await claim(second)).map((d) => d.id)).toEqual(['evt_lost.ep1']); // its first claim scans
      await second.close();
    } finally {
      await first.close();
    }
  }, 60_000);
});
