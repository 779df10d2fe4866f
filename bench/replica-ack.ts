// `npx tsx bench/replica-ack.ts`: what waiting for a replica costs a credit on a Redis Cluster (replicaAck credits vs none),
// and a write with `writes: 'all'`: sequential calls through the store, alternating rounds, medians (one machine).
import { openStore } from '../src/storage/open.js';
import { startCluster } from '../test/support/redis-cluster.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 300);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cluster = await startCluster();
try {
  const open = async (replicaAck: { replicas?: number; timeoutMs: number; writes: 'credits' | 'all' }) => {
    const s = await openStore(cluster.url, { timeoutMs: 5000, prefix: 'apgack:', replicaAck: { replicas: replicaAck.replicas, timeoutMs: replicaAck.timeoutMs, writes: replicaAck.writes } });
    await s.init();
    return s;
  };
  const stores = { none: await open({ replicas: 0, timeoutMs: 1000, writes: 'credits' }), credits: await open({ timeoutMs: 1000, writes: 'credits' }), all: await open({ timeoutMs: 1000, writes: 'all' }) };
  const times: Record<string, { grant: number[]; put: number[] }> = { none: { grant: [], put: [] }, credits: { grant: [], put: [] }, all: { grant: [], put: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, s] of Object.entries(stores)) {
      const account = `acct_${name}_${round}`;
      let t = performance.now();
      for (let i = 0; i < N; i++) await s.post(account, { amount: 1, kind: 'grant', reference: `r${i}` }, Date.now());
      times[name]!.grant.push(((performance.now() - t) * 1000) / N);
      t = performance.now();
      const value = new TextEncoder().encode('{"a":1}');
      for (let i = 0; i < N; i++) await s.put(account, 'm:u', `k${i}`, { value, size: 7, tag: 't', expiresAt: null, index: 'a 1' }, Date.now());
      times[name]!.put.push(((performance.now() - t) * 1000) / N);
    }
  }
  console.log('| replicaAck | grant (a credit), µs per call | memory write, µs per call |');
  console.log('|---|---|---|');
  for (const [name, t] of Object.entries(times)) console.log(`| ${name} | ${median(t.grant).toFixed(0)} | ${median(t.put).toFixed(0)} |`);
  for (const s of Object.values(stores)) await s.close();
} finally {
  await cluster.stop();
}
