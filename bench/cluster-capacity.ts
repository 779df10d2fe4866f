// How many paid metered calls one Redis master can serve, from the Redis CPU each call costs, on a single
// Redis and on a Redis Cluster (3 masters + 3 replicas), and how the calls spread over the masters.
// `npx tsx bench/cluster-capacity.ts` (N calls per round, ROUNDS alternated). A projection, not a load test:
// on a 2-core machine six redis-servers, the bench and its clients share the cores, so req/s say little
// about a real cluster, while the CPU a redis-server spends per call is its own and holds on any host.
import { createClient } from '@redis/client';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import { startCluster } from '../test/support/redis-cluster.js';
import { startOwnRedis } from '../test/support/own-servers.js';
import { machine, writeSection } from './report.js';

const N = Number(process.env.N ?? 6000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ACCOUNTS = 24;
const IN_FLIGHT = 32;
const PREFIX = `apgcap${Date.now().toString(36)}:`;

const request = (apiKey: string, query: string): CoreRequest => ({
  method: 'GET', path: '/memory/retrieve', query, headers: { authorization: `Bearer ${apiKey}` }, body: { kind: 'none' }, signal: new AbortController().signal,
});

/** used_cpu_user + used_cpu_sys of one redis-server, in µs. */
async function cpuOf(port: number): Promise<number> {
  const c = createClient({ url: `redis://127.0.0.1:${port}` });
  await c.connect();
  const info = await c.info('cpu');
  await c.quit();
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
  return Math.round((read('used_cpu_user') + read('used_cpu_sys')) * 1e6);
}

interface Setup { ai: Aipaygent; keys: Array<{ apiKey: string; accountId: string }>; ports: number[]; close(): Promise<void> }

async function setUp(url: string, ports: number[], close: () => Promise<void>): Promise<Setup> {
  const ai = createAipaygent({ store: url, storePrefix: PREFIX, freeCallsPerDay: 0, search: false });
  await ai.ready;
  const keys = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const { api_key: apiKey, account_id: accountId } = await ai.api.keys.create();
    await ai.api.ledger.grant({ accountId, amountMicroUsd: 1_000_000_000, reason: 'bench' });
    const put = await ai.api.memory.put(accountId, { userId: 'u', key: 'k', data: { language: 'Python', style: 'functional' } }, Date.now());
    if (!put.ok) throw new Error('could not store the memory');
    keys.push({ apiKey, accountId });
  }
  return { ai, keys, ports, close: async () => (await ai.close(), await close()) };
}

interface Round { cpuPerCall: number; masterPerCall: number; replicaPerCall: number; ms: number }

/**
 * Runs N paid retrieves spread over the accounts; returns Redis CPU µs per call (all nodes, the masters,
 * the replicas) and wall ms. The nodes' idle CPU (cluster bus pings, cron) over as long a quiet time is
 * measured right after and taken off, so that what remains is what the calls cost.
 */
async function round(s: Setup, masters: Set<number>): Promise<Round> {
  const before = await Promise.all(s.ports.map(cpuOf));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    for (let i = next++; i < N; i = next++) {
      const k = s.keys[i % s.keys.length]!;
      const res = await s.ai.handle(request(k.apiKey, 'user_id=u&key=k'));
      if (!res || res.status !== 200) throw new Error(`unexpected ${res?.status}`);
    }
  }));
  const ms = performance.now() - t0;
  const after = await Promise.all(s.ports.map(cpuOf));
  await new Promise((r) => setTimeout(r, ms));
  const idle = await Promise.all(s.ports.map(cpuOf));
  const cost = s.ports.map((_, i) => Math.max(0, after[i]! - before[i]! - (idle[i]! - after[i]!)));
  const sum = (pick: (i: number) => boolean) => cost.reduce((a, c, i) => a + (pick(i) ? c : 0), 0) / N;
  return { cpuPerCall: sum(() => true), masterPerCall: sum((i) => masters.has(s.ports[i]!)), replicaPerCall: sum((i) => !masters.has(s.ports[i]!)), ms };
}

const own = await startOwnRedis();
const single = await setUp(own.url, [own.port], () => own.stop());
const cluster = await startCluster();
const clustered = await setUp(cluster.url, cluster.nodes.map((n) => n.port), () => cluster.stop());

const masterPorts = new Set((await cluster.masters()).map((m) => m.port));
const results: Record<'single' | 'cluster', Round[]> = { single: [], cluster: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.single.push(await round(single, new Set([own.port])));
  results.cluster.push(await round(clustered, masterPorts));
  console.log(`round ${r + 1}: single ${results.single.at(-1)!.cpuPerCall.toFixed(1)} µs, cluster ${results.cluster.at(-1)!.cpuPerCall.toFixed(1)} µs of Redis CPU per call`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perMaster = new Map<number, number>();
for (const k of clustered.keys) {
  const slot = Number((await cluster.cli(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', `${PREFIX}{${k.accountId}}:a`)).trim());
  const port = await cluster.masterOf(slot);
  perMaster.set(port, (perMaster.get(port) ?? 0) + 1);
}
const rows: string[] = [];
for (const [name, rs] of Object.entries(results)) {
  const cpu = median(rs.map((x) => x.masterPerCall));
  rows.push(`| ${name === 'single' ? 'one Redis, no replica' : 'Redis Cluster, 3 masters + 3 replicas'} | ${median(rs.map((x) => x.cpuPerCall)).toFixed(1)} | ${cpu.toFixed(1)} | ${median(rs.map((x) => x.replicaPerCall)).toFixed(1)} | ~${(Math.round(1e6 / cpu / 100) * 100).toLocaleString('en')} |`);
  console.log(`${name}: median ${median(rs.map((x) => x.cpuPerCall)).toFixed(1)} µs of Redis CPU per paid retrieve (all nodes), ${cpu.toFixed(1)} on its master, ${median(rs.map((x) => x.replicaPerCall)).toFixed(1)} on replicas; one master core saturates at ~${Math.round(1e6 / cpu)} calls/s; wall ${median(rs.map((x) => x.ms)).toFixed(0)} ms per ${N} calls`);
}
console.log(`accounts per master: ${[...perMaster.values()].join(', ')}`);
writeSection('cluster-capacity', 'Redis Cluster: what one master serves (issue 19)', [
  `Command: \`npx tsx bench/cluster-capacity.ts\` (${N} paid GET /memory/retrieve through \`ai.handle\` per round, ${IN_FLIGHT} in flight, spread over ${ACCOUNTS} accounts; ${ROUNDS} rounds alternated between a private single redis-server and a private cluster; medians). Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  'Redis CPU (used_cpu_user + used_cpu_sys from INFO, the nodes\' idle CPU over as long a quiet time taken off) per paid call, in µs. A redis-server runs commands on one thread, so one master core serves about 1,000,000 ÷ its µs per call: the figure to size a deployment with (docs/scaling.md). Requests per second on this 2-core machine, with six redis-servers, the server and the load on the same cores, say little about a real cluster (the `cluster-retrieve` row above).',
  '',
  '| store | all nodes | its master | replicas | paid retrieves/s one master core serves |',
  '|---|---:|---:|---:|---:|',
  ...rows,
  '',
  `Accounts per master in this run: ${[...perMaster.values()].join(', ')} (of ${ACCOUNTS}; accounts spread by the hash of their id).`,
].join('\n'));
await single.close();
await clustered.close();
