// Counts store round trips per memory call (Redis: server command stats; Postgres: client queries), and
// the bytes a long conversation takes in storage vs its raw JSON. Part of `npm run bench`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { createClient } from '@redis/client';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import { dropPrefix } from '../test/support/cleanup.js';
import { startOwnPostgres } from '../test/support/own-servers.js';
import { machine, writeSection } from './report.js';
import { latencySettings, latencyTable, retrieveRatio, storeLatency } from './store-latency.js';

// A private redis-server: server-side command counts must not include anybody else's traffic.
const port = await new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as { port: number }).port;
    srv.close(() => resolve(p));
  });
});
const redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const REDIS = `redis://127.0.0.1:${port}`;
const POSTGRES = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const N = 100;

// Every pg round trip goes through Pool.prototype.query: count them (bench process only).
let pgQueries = 0;
const poolQuery = pg.Pool.prototype.query;
pg.Pool.prototype.query = function (this: pg.Pool, ...args: unknown[]) {
  pgQueries++;
  return (poolQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof poolQuery;

const redis = createClient({ url: REDIS });
for (let i = 0; ; i++) {
  try {
    await redis.connect();
    break;
  } catch (error) {
    if (i > 50) throw error;
    await new Promise((r) => setTimeout(r, 100));
  }
}
// MONITOR shows every command a client sent; commands run inside a Lua script are marked "lua" and are
// not round trips, so they are left out.
let redisRoundTrips = 0;
const monitor = redis.duplicate();
await monitor.connect();
await monitor.monitor((line) => {
  if (!/\[\d+ lua\]/.test(line)) redisRoundTrips++;
});
const settle = () => new Promise((r) => setTimeout(r, 200));
async function redisCalls(): Promise<number> {
  await settle();
  return redisRoundTrips;
}

const request = (apiKey: string, method: string, path: string, query: string, body?: unknown): CoreRequest => ({
  method, path, query, headers: { authorization: `Bearer ${apiKey}` },
  body: body === undefined ? { kind: 'none' } : { kind: 'parsed', value: body }, signal: new AbortController().signal,
});

async function measure(ai: Aipaygent, counter: () => Promise<number>, freeLeft: boolean, make: (i: number) => CoreRequest): Promise<number> {
  const before = await counter();
  for (let i = 0; i < N; i++) {
    const res = await ai.handle(make(i));
    if (!res || res.status >= 300) throw new Error(`unexpected ${res?.status} ${String(res?.body)}`);
  }
  void freeLeft;
  return ((await counter()) - before) / N;
}

/** A varied, deterministic conversation: words drawn from a vocabulary, so compression is not flattered by repetition. */
function conversation(n: number): unknown {
  const words = 'the a to of and in is for on with query index table join plan cost row scan cache memory agent user prefers python style test deploy latency error retry batch vector embedding token prompt context session learn remember'.split(' ');
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sentence = () => Array.from({ length: 4 + Math.floor(next() * 14) }, () => words[Math.floor(next() * words.length)]).join(' ');
  return {
    messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${sentence()}. ${sentence()}?`, at: new Date(1_760_000_000_000 + i * 37_000).toISOString() })),
    insights: Array.from({ length: 20 }, (_, i) => ({ timestamp: new Date(1_760_000_000_000 + i * 3_600_000).toISOString(), topic: sentence().slice(0, 50), resolved: i % 3 !== 0 })),
  };
}

const rows: string[] = [];
const compression: string[] = [];
for (const [name, url, counter] of [
  ['Redis', REDIS, redisCalls],
  ['Postgres', POSTGRES, async () => pgQueries],
] as const) {
  const prefix = `apgrt_${randomUUID().slice(0, 8)}_`;
  // A free quota larger than the first runs, then 0 for the paid runs: same store, two services.
  const free = createAipaygent({ store: url, storePrefix: prefix, freeCallsPerDay: 1_000_000 });
  const paid = createAipaygent({ store: url, storePrefix: prefix, freeCallsPerDay: 0 });
  await Promise.all([free.ready, paid.ready]);
  const { api_key, account_id } = await free.api.keys.create();
  await free.api.ledger.grant({ accountId: account_id, amountMicroUsd: 1_000_000_000, reason: 'bench' });
  const data = { language: 'Python', style: 'functional' };
  await free.handle(request(api_key, 'POST', '/memory/store', '', { user_id: 'u', key: 'k', data }));
  const retrieve = () => request(api_key, 'GET', '/memory/retrieve', 'user_id=u&key=k');
  const store = (i: number) => request(api_key, 'POST', '/memory/store', '', { user_id: 'u', key: `k${i}`, data });
  const r = {
    retrieveFree: await measure(free, counter, true, retrieve),
    retrievePaid: await measure(paid, counter, false, retrieve),
    storePaid: await measure(paid, counter, false, store),
  };
  rows.push(`| ${name} | ${r.retrieveFree.toFixed(2)} | ${r.retrievePaid.toFixed(2)} | ${r.storePaid.toFixed(2)} |`);

  // Storage efficiency: a 1,000-message conversation history, stored bytes vs raw JSON.
  const history = conversation(1000);
  const put = await free.api.memory.put(account_id, { userId: 'u', key: 'conversation_history', data: history }, Date.now());
  if (!put.ok) throw new Error(`could not store the history: ${JSON.stringify(put)}`);
  const rec = await free.api.memory.get(account_id, 'u', 'conversation_history', Date.now());
  const rawBytes = Buffer.byteLength(JSON.stringify(history));
  let storedBytes = -1;
  if (name === 'Redis') {
    const keys = (await redis.keys(`${prefix}*:r:*conversation_history`)).filter((k) => !k.includes(':r:h'));
    if (keys.length !== 1) throw new Error(`expected one record key, found ${keys.join(', ')}`);
    const value = await redis.hGet(keys[0]!, 'v');
    storedBytes = value === null ? -1 : Buffer.byteLength(value, 'latin1');
    void rec;
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const schema = prefix.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    const q = await c.query<{ n: number }>(`SELECT octet_length(value) AS n FROM "${schema}".records WHERE key = 'conversation_history'`);
    storedBytes = Number(q.rows[0]?.n ?? -1);
    await c.query(`DROP SCHEMA "${schema}" CASCADE`);
    await c.end();
  }
  compression.push(`| ${name} | ${rawBytes} | ${storedBytes} | ${((storedBytes / rawBytes) * 100).toFixed(1)}% |`);
  console.log(`${name}: retrieve free ${r.retrieveFree} rt, paid ${r.retrievePaid} rt, store paid ${r.storePaid} rt; history ${rawBytes} B JSON -> ${storedBytes} B stored`);
  await free.close();
  await paid.close();
}
monitor.destroy();
// Latency, after the counting (MONITOR off: it would slow every Redis command down). Postgres: a private server with
// fsync off, as the private redis-server keeps nothing on disk (LATENCY_POSTGRES_URL: any other, e.g. the shared one).
const ownPostgres = process.env.LATENCY_POSTGRES_URL ? null : await startOwnPostgres();
const LATENCY_POSTGRES = process.env.LATENCY_POSTGRES_URL ?? ownPostgres!.url;
const latency = await storeLatency([{ name: 'Redis', url: REDIS }, { name: 'Postgres', url: LATENCY_POSTGRES }], (url, prefix) => dropPrefix(url, prefix));
await ownPostgres?.stop();
const latencyLines = latencyTable(latency, ['Redis', 'Postgres']);
const ratio = retrieveRatio(latency, ['Redis', 'Postgres']);
await redis.quit();
redisServer.kill();
writeSection(
  'round-trips',
  'Store round trips per memory call, and storage size',
  [
    `Command: \`npm run bench\` (bench/round-trips.ts: ${N} calls each through \`ai.handle\`; Redis counted with MONITOR on a private redis-server, script-internal commands excluded; Postgres counted at \`pg.Pool.query\`). Machine: ${machine()}.`,
    '',
    '| backend | retrieve (free call) | retrieve (paid call) | store (paid call) |',
    '|---|---:|---:|---:|',
    ...rows,
    '',
    'A metered call is one store operation for the API-key check and the free call or debit together (`store.charge` with `auth`), then the memory operation; a store also writes its version history (one more put). With a rate limit configured, an `Idempotency-Key` sent or a custom Store without `info.chargeAuth`, the key is verified on its own first (one more round trip), so that a forged key never touches the account.',
    '',
    'A 1,000-message conversation history (varied text, as an agent would store it) stored through the memory API:',
    '',
    '| backend | raw JSON bytes | stored bytes | stored / raw |',
    '|---|---:|---:|---:|',
    ...compression,
    '',
    `Latency of the same calls, Redis vs Postgres (bench/store-latency.ts: one call at a time through \`ai.handle\` on a paid service; the Claude call's reserve + settle as \`store.hold\` then \`store.settle\` with token counters; the floors are a bare round trip, PING / \`SELECT 1\`, and a committed write, INCR / a one-row UPDATE). ${latencySettings.ROUNDS} rounds of ${latencySettings.N} calls per operation and backend, the backends alternating first and second, after ${latencySettings.WARMUP} warm-up calls each; the p50 is the median of the rounds' p50s. Redis: a private redis-server without persistence; Postgres: ${ownPostgres ? 'a private server with fsync off (nothing waits for the disk on either side)' : `${LATENCY_POSTGRES.replace(/\/\/[^@/]*@/, '//')}`}.`,
    '',
    ...latencyLines,
    '',
    `**Paid retrieve p50, Postgres / Redis: ${ratio.toFixed(2)}×** (target: within 2×).`,
  ].join('\n'),
);
console.log([...rows, ...compression, ...latencyLines, `paid retrieve p50 Postgres / Redis: ${ratio.toFixed(2)}x`].join('\n'));
