// The core alone: `ai.handle` for a metered (and an unmetered) GET /memory/retrieve, called in-process
// in a loop with 50 calls in flight, on the in-memory store. No HTTP, so no network or scheduling noise.
// Run: npx tsx bench/handle-loop.ts
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { AipaygentOptions } from '../src/config.js';
import type { CoreRequest } from '../src/http/types.js';
import { DATA } from './scenarios.js';

const CALLS = 50_000;
const IN_FLIGHT = 50;

async function costPerCall(options: AipaygentOptions): Promise<number> {
  const ai: Aipaygent = createAipaygent({ freeCallsPerDay: 1_000_000, ...options });
  await ai.ready;
  const { api_key, account_id } = await ai.api.keys.create();
  await ai.api.memory.put(account_id, { userId: 'dev_user_123', key: 'coding_preferences', data: DATA, ttlDays: 365 }, Date.now());
  const headers = { host: '127.0.0.1:3000', authorization: `Bearer ${api_key}`, 'user-agent': 'autocannon', connection: 'keep-alive' };
  const signal = new AbortController().signal;
  const request = (): CoreRequest => ({ method: 'GET', path: '/memory/retrieve', query: 'user_id=dev_user_123&key=coding_preferences', headers, body: { kind: 'none' }, signal });
  const best: number[] = [];
  for (let round = 0; round < 5; round++) {
    let started = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (started++ < CALLS) if ((await ai.handle(request()))?.status !== 200) throw new Error('retrieve failed');
    }));
    best.push(Number(process.hrtime.bigint() - t0) / CALLS / 1000);
  }
  await ai.close();
  // The first rounds warm the JIT up; the median of the last three is reported.
  return best.slice(2).sort((a, b) => a - b)[1]!;
}

const metered = await costPerCall({ metering: true });
const unmetered = await costPerCall({ metering: false });
// An admin token turns /metrics on: every call then reports a request event and its store operations to the registry.
const observed = await costPerCall({ metering: true, metricsToken: 'bench-metrics-token-0123456789' });
console.log(
  `ai.handle, GET /memory/retrieve, in-memory store: metered ${metered.toFixed(2)} µs per call, metering off ${unmetered.toFixed(2)} µs per call, ` +
    `metered with /metrics on ${observed.toFixed(2)} µs per call`,
);
