// Property-based fuzzing of every documented route, through the real HTTP stack, on the in-memory store and on Postgres.
// Inputs come from each route's own schema (the served /openapi.json) plus hostile mutations; every answer must be
// below 500, in the error shape when an error, free of stacks, paths, class names, SQL and secrets; afterwards the
// server must still store and retrieve. Reproduce a failure with the FUZZ_SEED (and the path) it prints.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BACKENDS, call } from '../support/mounts.js';
import { dropPrefix } from '../support/cleanup.js';
import { logProblems, problemsOf, textProblems } from './check.js';
import { startTarget, type Target } from './fixture.js';
import { fuzzCases, operationsOf, type Operation } from './request-arbitrary.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1506);
/** Requests per mount and store: enough to hit every route with each kind of input; bounded so the file stays well under a minute. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

const MOUNTS = [
  { kind: 'core' as const, parsed: false },
  { kind: 'express5' as const, parsed: true },
];

// Its own schema on Postgres (removed afterwards); REQUIRE_BACKENDS=1 makes an unreachable server a failure, not a skip.
const found = await BACKENDS.postgres!();
const postgres = found && { ...found, storePrefix: found.storePrefix.replace(/^apghttp/, 'apgfuzz') };
const STORES: Array<[string, { store?: string; storePrefix?: string } | null]> = [['memory', {}], ['postgres', postgres]];

/** FUZZ_STATS=1 prints how often each route answered each status (FUZZ_STATS=messages: with the start of the answer). */
const STATS = new Map<string, number>();
afterAll(() => {
  if (process.env.FUZZ_STATS) console.log([...STATS].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
});

/** Runs the property on `target` with `seed`; a failure names the seed that reproduces it. */
async function fuzz(target: Target, seed: number, operations: Operation[], reached: Set<string>, resolveCases: ReturnType<typeof fuzzCases>): Promise<void> {
  let previous = '(none)';
  const property = fc.asyncProperty(resolveCases, async (c) => {
    const op = operations[c.op]!;
    const logged = target.logs.length;
    const told = target.toolResults.length;
    const { sent, answer } = await target.send(op, c).catch((error: Error) => {
      throw new Error(`${error.message} (the request before it: ${previous.slice(0, 600)})`);
    });
    previous = sent;
    if (![401, 405].includes(answer.status)) reached.add(`${op.method} ${op.path}`);
    if (process.env.FUZZ_STATS) {
      const stat = `${op.method} ${op.path} ${answer.status}${process.env.FUZZ_STATS === 'messages' ? ` ${answer.text.slice(0, 120)}` : ''}`;
      STATS.set(stat, (STATS.get(stat) ?? 0) + 1);
    }
    // What the memory tool told the model may echo the tool input the fake model sent, nothing more.
    const toolInput = JSON.stringify(c.upstream);
    const problems = [
      ...problemsOf(op, answer, sent, target.secrets),
      ...target.toolResults.slice(told).flatMap((t) => textProblems('a memory tool result', t, sent + toolInput, target.secrets)),
      ...logProblems(target.logs.slice(logged), target.secrets),
    ];
    if (problems.length) {
      const tools = target.toolResults.slice(told).map((t) => `\n--- memory tool result\n${t.slice(0, 1500)}`).join('');
      throw new Error(`${problems.join('; ')}\n--- request\n${sent.slice(0, 1500)}\n--- answer ${answer.status}\n${answer.text.slice(0, 1500)}${tools}`);
    }
  });
  try {
    // A run that takes 15 s is a stall; the whole property (shrinking included) is cut at 100 s, as a failure.
    await fc.assert(property, { seed, numRuns: RUNS, timeout: 15_000, plugins: [fc.interruptAfterTimeLimit(100_000, { failOnInterrupt: true })] });
  } catch (error) {
    const rerun = `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npx vitest run test/fuzz`;
    throw new Error(`fuzz failed with seed ${seed} (FUZZ_SEED=${SEED} plus this test's offset; rerun: ${rerun})\n${(error as Error).message}\n${String((error as Error).cause ?? '')}`);
  }
}

/** The server still works for an honest client: a value stored comes back identical, for an old key and a new one. */
async function roundTrip(target: Target): Promise<void> {
  const { url } = target.mounted;
  const fresh = (await call(`${url}/admin/keys`, { key: ADMIN_TOKEN, body: {} })).body.api_key as string;
  // The fuzzer may have capped the funded account through the (admin) settings route, as an operator could: lift the caps.
  const lifted = await call(`${url}/admin/accounts/${target.funded.account}/settings`, {
    key: ADMIN_TOKEN, method: 'PATCH', body: { daily_spend_cap_micro_usd: null, monthly_spend_cap_micro_usd: null },
  });
  expect(lifted.status, lifted.text).toBe(200);
  const data = { text: 'après le fuzz 🧪', list: [1, 2.5, null, true], nested: { deep: [{ a: 'b' }] } };
  for (const key of [target.funded.key, fresh]) {
    const stored = await call(`${url}/memory/store`, { key, body: { user_id: 'round trip', key: 'after fuzz', data } });
    expect(stored.status, stored.text).toBe(200);
    const back = await call(`${url}/memory/retrieve?user_id=round%20trip&key=after%20fuzz`, { key });
    expect(back.status, back.text).toBe(200);
    expect(back.body.data).toEqual(data);
  }
}

for (const [s, [store, location]] of STORES.entries()) {
  (location ? describe : describe.skip)(`fuzz: every route, hostile input [${store} store]`, () => {
    afterAll(async () => {
      if (location?.store) await dropPrefix(location.store, location.storePrefix!);
    });

    for (const [m, { kind, parsed }] of MOUNTS.entries()) {
      // Each store and mount draws its own sequence: two mounts on one store test different requests.
      const seed = SEED + 2 * s + m;
      it(`${kind}${parsed ? ' (host-parsed body)' : ''}: ${RUNS} requests, never a 5xx, the error shape, nothing internal; store and retrieve still work`, async () => {
        const target = await startTarget(kind, parsed, location!);
        try {
          const doc = (await call(`${target.mounted.url}/openapi.json`)).body;
          const { operations, resolve } = operationsOf(doc, target.mounted.ai.routes);
          const served = target.mounted.ai.routes.map((r) => `${r.method} ${r.path}`).sort();
          expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(served);
          const reached = new Set<string>();
          await fuzz(target, seed, operations, reached, fuzzCases(operations, resolve));
          // Each route got past its credentials at least once: the fuzzer reached every handler, not only the door.
          expect(served.filter((r) => !reached.has(r))).toEqual([]);
          await roundTrip(target);
          expect(logProblems(target.logs, target.secrets)).toEqual([]);
        } finally {
          await target.close();
        }
      }, 150_000);
    }
  });
}
