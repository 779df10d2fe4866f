// `npx tsx bench/usage-cost.ts`: what usage counters cost a metered GET /memory/retrieve (counted inside the charge), on the
// in-memory store and on a private redis-server, free and paid calls: usage on vs `usage: false`, rounds alternated, medians.
// Through `ai.handle` (no HTTP server, no load generator on the same cores): calls per second, the Node CPU each call costs
// (process.cpuUsage) and the Redis CPU (INFO); on a shared 2-core machine the CPU per call moves far less than calls per second.
import { createClient } from '@redis/client';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import { startOwnRedis } from '../test/support/own-servers.js';
import { machine, writeSection } from './report.js';

/**
 * Calls per round: the in-memory store answers about ten times as many per second as Redis, so it gets more (at most
 * 1,000,000 free calls a day per account over the warm-up and the rounds: freeCallsPerDay's limit).
 */
const N_REDIS = Number(process.env.N ?? 20_000);
const N_MEMORY = Number(process.env.N_MEMORY ?? 150_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const IN_FLIGHT = 32;

/** used_cpu_user + used_cpu_sys of the redis-server, in µs. */
async function redisCpu(url: string): Promise<number> {
  const c = createClient({ url });
  await c.connect();
  const info = await c.info('cpu');
  await c.quit();
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
  return Math.round((read('used_cpu_user') + read('used_cpu_sys')) * 1e6);
}

interface Setup { ai: Aipaygent; request: CoreRequest; redis: string | undefined; n: number }

async function setUp(redis: string | undefined, paid: boolean, usage: boolean): Promise<Setup> {
  const ai = createAipaygent({
    freeCallsPerDay: paid ? 0 : 1_000_000, usage, search: false,
    ...(redis && { store: redis, storePrefix: `apgusage${usage ? 'on' : 'off'}${paid ? 'paid' : 'free'}:` }),
  });
  await ai.ready;
  const { api_key: apiKey, account_id: accountId } = await ai.api.keys.create();
  if (paid) await ai.api.ledger.grant({ accountId, amountMicroUsd: 1_000_000_000_000, reason: 'bench' });
  await ai.api.memory.put(accountId, { userId: 'u', key: 'k', data: { language: 'Python', style: 'functional' } }, Date.now());
  const request: CoreRequest = {
    method: 'GET', path: '/memory/retrieve', query: 'user_id=u&key=k', headers: { authorization: `Bearer ${apiKey}` }, body: { kind: 'none' }, signal: new AbortController().signal,
  };
  return { ai, request, redis, n: redis ? N_REDIS : N_MEMORY };
}

interface Round { perSecond: number; nodeUs: number; redisUs: number }

async function round(s: Setup): Promise<Round> {
  const redis0 = s.redis ? await redisCpu(s.redis) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const N = s.n;
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < N) {
      const res = await s.ai.handle(s.request);
      if (!res || res.status !== 200) throw new Error(`unexpected ${res?.status}`);
    }
  }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  let redisUs = 0;
  if (s.redis) {
    const after = await redisCpu(s.redis);
    // The server's idle CPU (cron) over as long a quiet time, taken off.
    await new Promise((r) => setTimeout(r, Math.min(ms, 3000)));
    const idle = ((await redisCpu(s.redis)) - after) * (ms / Math.min(ms, 3000));
    redisUs = Math.max(0, after - redis0 - idle) / N;
  }
  return { perSecond: (N * 1000) / ms, nodeUs: (cpu.user + cpu.system) / N, redisUs };
}

const own = await startOwnRedis();
// Best of the rounds (most calls per second, least CPU per call): on a shared machine other work only ever slows a
// round down, so the least disturbed round of each side is the fairest comparison; the medians are printed too.
const best = (xs: number[], most: boolean) => (most ? Math.max(...xs) : Math.min(...xs));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
/** Redis CPU per call off and on, by call kind, for the summary line. */
const redisCost: string[] = [];
try {
  for (const [store, redis] of [['in-memory', undefined], ['Redis', own.url]] as const) {
    for (const paid of [false, true]) {
      const on = await setUp(redis, paid, true);
      const off = await setUp(redis, paid, false);
      const results: Record<'on' | 'off', Round[]> = { on: [], off: [] };
      // Warm-up (JIT, connections), not measured; then alternated, the order flipped every round.
      await round(off);
      await round(on);
      for (let r = 0; r < ROUNDS; r++) {
        for (const which of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) results[which].push(await round(which === 'on' ? on : off));
        const [o, n] = [results.off.at(-1)!, results.on.at(-1)!];
        console.log(`${store} ${paid ? 'paid' : 'free'} round ${r + 1}: off ${o.perSecond.toFixed(0)}/s ${o.nodeUs.toFixed(1)}+${o.redisUs.toFixed(1)} µs, on ${n.perSecond.toFixed(0)}/s ${n.nodeUs.toFixed(1)}+${n.redisUs.toFixed(1)} µs`);
      }
      const m = (which: 'on' | 'off', k: keyof Round) => best(results[which].map((x) => x[k]), k === 'perSecond');
      const mid = (which: 'on' | 'off', k: keyof Round) => median(results[which].map((x) => x[k]));
      console.log(`  medians: ${mid('off', 'perSecond').toFixed(0)} vs ${mid('on', 'perSecond').toFixed(0)} calls/s, Node ${mid('off', 'nodeUs').toFixed(1)} vs ${mid('on', 'nodeUs').toFixed(1)} µs, Redis ${mid('off', 'redisUs').toFixed(1)} vs ${mid('on', 'redisUs').toFixed(1)} µs`);
      const ratio = m('on', 'perSecond') / m('off', 'perSecond');
      const redisCol = redis ? `${m('off', 'redisUs').toFixed(1)} → ${m('on', 'redisUs').toFixed(1)}` : '—';
      const row = `| ${store}, ${paid ? 'paid from the balance' : 'free call'} | ${m('off', 'perSecond').toFixed(0)} | ${m('on', 'perSecond').toFixed(0)} | **${(ratio * 100).toFixed(1)}%** | ${m('off', 'nodeUs').toFixed(1)} → ${m('on', 'nodeUs').toFixed(1)} | ${redisCol} |`;
      console.log(row);
      rows.push(row);
      if (redis) {
        const [o, n] = [m('off', 'redisUs'), m('on', 'redisUs')];
        redisCost.push(`${n >= o ? '+' : ''}${(n - o).toFixed(1)} µs per ${paid ? 'paid' : 'free'} call (${n >= o ? '+' : ''}${(((n - o) / o) * 100).toFixed(0)}%)`);
      }
      await on.ai.close();
      await off.ai.close();
    }
  }
} finally {
  await own.stop();
}

writeSection('usage', 'Usage counters: what counting costs a metered call (issue 20)', [
  `Command: \`npx tsx bench/usage-cost.ts\` (${N_MEMORY} in-memory / ${N_REDIS} Redis GET /memory/retrieve through \`ai.handle\` per round, ${IN_FLIGHT} in flight, one account; usage on vs \`usage: false\`, ${ROUNDS} rounds alternated after a warm-up; best round of each side: other work on a shared machine only ever slows a round down; Redis: a private redis-server). Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  "The counters are written by the charge itself (the same Lua script on Redis, the same synchronous step in memory): a free call adds its hour's `free` counter and the key's last use, a paid one `paid` and `spent` too; no extra round trip. The activity index costs one write per account and day. Calls per second through the core pipeline alone (no HTTP), so the share of the cost is larger here than behind a web server; CPU per call (the process's user + system time, and Redis' own) moves far less than calls per second on a shared machine. HTTP req/s of the same calls: the `usage-*` rows of the table above.",
  '',
  '| store, call | usage off calls/s | usage on calls/s | ratio | Node CPU µs per call (off → on) | Redis CPU µs per call (off → on) |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  `Redis CPU: ${redisCost.join(', ')}: what a deployment whose Redis is the bottleneck pays (the cluster-capacity section sizes masters by it). ` +
    'On this shared 2-core machine calls per second (and the HTTP rows above) swing by tens of percent from round to round with the other work on it; the CPU per call is the steadier figure.',
].join('\n'));
