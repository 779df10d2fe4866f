// `npm run bench`: runs scenario pairs side by side (autocannon against child-process servers) and records ratios.
import { connections, load, rounds, seconds } from './load.js';
import { machine, readSection, writeSection } from './report.js';

interface Pair {
  id: string;
  title: string;
  baseline: string;
  subject: string;
  target: string;
  /** Minimum subject/baseline ratio of requests per second that meets the target. */
  minRatio: number;
}

const PAIRS: Pair[] = [
  { id: 'express-retrieve', title: 'GET /memory/retrieve in Express 5 (in-memory store) vs a bare Express route', baseline: 'express-bare', subject: 'express-retrieve', target: '≥ 85% of bare', minRatio: 0.85 },
  { id: 'node-retrieve', title: 'GET /memory/retrieve on bare node:http (in-memory store, as `aipaygent serve` mounts it) vs a node:http route answering the same bytes', baseline: 'node-bare', subject: 'node-retrieve', target: '≥ 75% of bare', minRatio: 0.75 },
  { id: 'handbuilt-memory', title: 'GET /memory/retrieve in Express 5 (in-memory store) vs the hand-built stack: Express 5 + express-rate-limit (memory store) + a SHA-256 key lookup, same body', baseline: 'handbuilt-memory', subject: 'express-retrieve', target: '≥ 1.5× hand-built (150%)', minRatio: 1.5 },
  { id: 'handbuilt-redis', title: 'GET /memory/retrieve in Express 5 on Redis vs the hand-built stack on Redis: Express 5 + express-rate-limit (rate-limit-redis) + a SHA-256 key lookup in Redis, same body', baseline: 'handbuilt-redis', subject: 'express-redis-retrieve', target: '≥ 1.5× hand-built (150%)', minRatio: 1.5 },
  { id: 'koa-retrieve', title: 'GET /memory/retrieve in Koa 3 (in-memory store) vs a bare Koa route', baseline: 'koa-bare', subject: 'koa-retrieve', target: '≥ 85% of bare', minRatio: 0.85 },
  { id: 'redis-retrieve', title: 'GET /memory/retrieve in Express 5 on Redis (auth + quota + read) vs a bare Express route doing one Redis GET', baseline: 'express-redis-bare', subject: 'express-redis-retrieve', target: 'recorded (no target set)', minRatio: 0 },
  { id: 'metering-memory', title: 'GET /memory/retrieve metered (free call counted) vs metering off, in-memory store', baseline: 'express-retrieve-unmetered', subject: 'express-retrieve', target: '≥ 90% of unmetered', minRatio: 0.9 },
  { id: 'metrics-memory', title: 'GET /memory/retrieve with /metrics on (request and store events into the Prometheus registry) vs off, in-memory store', baseline: 'express-retrieve', subject: 'express-retrieve-metrics', target: 'recorded (no target set)', minRatio: 0 },
  { id: 'metering-redis', title: 'GET /memory/retrieve metered vs metering off, Redis store (2 vs 2 round trips: the key check moves into the charge)', baseline: 'express-redis-retrieve-unmetered', subject: 'express-redis-retrieve', target: 'recorded; round trips in the next section', minRatio: 0 },
  // Contention costs: 50 connections appending to ONE key (CAS + batching) vs storing under distinct keys.
  { id: 'append-memory', title: 'POST /memory/append, 50 appenders on one key vs /memory/store on distinct keys (in-memory)', baseline: 'memory-store-distinct-keys', subject: 'memory-append-one-key', target: '≥ 50% of store', minRatio: 0.5 },
  { id: 'cluster-retrieve', title: 'GET /memory/retrieve in Express 5 on a Redis Cluster (3 masters, 3 replicas, all on this machine) vs on a single Redis', baseline: 'express-redis-retrieve', subject: 'express-cluster-retrieve', target: 'recorded (no target set: one machine shows the client-side cost, not the scale-out)', minRatio: 0 },
  { id: 'search-index-memory', title: 'POST /memory/store on distinct keys with the search index kept vs search off (in-memory)', baseline: 'memory-store-unindexed', subject: 'memory-store-distinct-keys', target: '≥ 85% of unindexed', minRatio: 0.85 },
  { id: 'search-index-postgres', title: 'POST /memory/store on distinct keys with the search index kept vs search off (Postgres)', baseline: 'postgres-store-unindexed', subject: 'postgres-store-distinct-keys', target: '≥ 85% of unindexed', minRatio: 0.85 },
  { id: 'usage-memory', title: 'GET /memory/retrieve with usage counters (the free call and the key\'s last use counted in the charge) vs usage off, in-memory store', baseline: 'express-retrieve-no-usage', subject: 'express-retrieve', target: '≥ 95% of usage off', minRatio: 0.95 },
  { id: 'usage-redis', title: 'GET /memory/retrieve with usage counters vs usage off, Redis store (counted in the charge\'s Lua script: no extra round trip)', baseline: 'express-redis-retrieve-no-usage', subject: 'express-redis-retrieve', target: '≥ 95% of usage off', minRatio: 0.95 },
  { id: 'usage-paid-memory', title: 'GET /memory/retrieve paid from the balance, with usage counters vs usage off, in-memory store', baseline: 'express-retrieve-paid-no-usage', subject: 'express-retrieve-paid', target: '≥ 95% of usage off', minRatio: 0.95 },
  { id: 'usage-paid-redis', title: 'GET /memory/retrieve paid from the balance, with usage counters vs usage off, Redis store', baseline: 'express-redis-retrieve-paid-no-usage', subject: 'express-redis-retrieve-paid', target: '≥ 95% of usage off', minRatio: 0.95 },
  { id: 'append-redis', title: 'POST /memory/append, 50 appenders on one key vs /memory/store on distinct keys (Redis)', baseline: 'redis-store-distinct-keys', subject: 'redis-append-one-key', target: '≥ 50% of store', minRatio: 0.5 },
];

const only = process.argv.slice(2);

// A run of some pairs (`node run.js cluster`) replaces their rows and keeps the others', each row dated by its run.
const previous = readSection('http');
const rows = new Map<string, string>(PAIRS.flatMap((p) => {
  const old = previous.find((l) => l.startsWith(`| ${p.title} |`));
  return old ? [[p.id, old] as [string, string]] : [];
}));
const runDay = new Date().toISOString().slice(0, 10);
const lastRun = /Run: (\d{4}-\d\d-\d\d)/.exec(previous.join('\n'))?.[1] ?? 'earlier';
for (const pair of PAIRS.filter((p) => only.length === 0 || only.some((o) => p.id.includes(o)))) {
  // Alternate baseline and subject so drift on a noisy machine hits both alike.
  const base = [];
  const subj = [];
  for (let round = 0; round < rounds; round++) {
    base.push(await load(pair.baseline));
    subj.push(await load(pair.subject));
    const [b1, s1] = [base.at(-1)!, subj.at(-1)!];
    console.log(`  ${pair.id} round ${round + 1}: ${Math.round(b1.rps)} vs ${Math.round(s1.rps)} req/s (${((s1.rps / b1.rps) * 100).toFixed(1)}%), server CPU ${b1.cpuUsPerRequest.toFixed(1)} vs ${s1.cpuUsPerRequest.toFixed(1)} µs per request`);
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const b = avg(base.map((x) => x.rps));
  const s = avg(subj.map((x) => x.rps));
  if (subj.some((x) => x.non2xx > 0)) throw new Error(`${pair.subject} answered non-2xx responses: the benchmark is invalid`);
  const ratio = s / b;
  const line = `| ${pair.title} | ${Math.round(b)} | ${Math.round(s)} | **${(ratio * 100).toFixed(1)}%** | ${pair.target} ${ratio >= pair.minRatio ? '✅' : '❌'} | p50 ${subj.at(-1)!.p50} ms / p99 ${subj.at(-1)!.p99} ms | ${runDay} |`;
  console.log(line);
  rows.set(pair.id, line);
}

writeSection(
  'http',
  'HTTP throughput: aipaygent mounted vs the bare framework',
  [
    `Command: \`npm run bench\` (autocannon, ${connections} connections, ${seconds} s per run after a 2 s warm-up, each server in its own process, baseline and subject alternated ${rounds === 2 ? "twice" : `${rounds} times`} and averaged; the servers run the tsc output, as a user's server would).`,
    `Machine: ${machine()}. Each row gives the day it was measured; \`node .bench/bench/run.js <pair id>\` after \`npm run bench:build\` reruns one pair and keeps the other rows.`,
    '',
    '| pair | baseline req/s | aipaygent req/s | ratio | target | aipaygent latency | run |',
    '|---|---:|---:|---:|---|---|---|',
    // Rows of an older run (no run column) get the day of the section's last full run.
    ...PAIRS.flatMap((p) => { const r = rows.get(p.id); return r === undefined ? [] : [/\| \d{4}-\d\d-\d\d \|$/.test(r) ? r : `${r} ${lastRun} |`]; }),
  ].join('\n'),
);
