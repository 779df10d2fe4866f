// One hostile memory-tool call must not stall the other calls: the event loop's worst delay with it running equals the one without.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OPERATOR_KEY } from '../support/claude.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { MEMORY_TOOL, MODEL, script, text, toolResults, toolUse, turn } from './support.js';

const LINES = 30_000;
/** Store + retrieve pairs every measurement runs at least. */
const MIN_PAIRS = 150;

let fake: FakeAnthropic;
let m: Mounted;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  m = await startMount('core', {
    parsed: false, prefix: '',
    options: { freeCallsPerDay: 1_000_000, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 120_000, memory: { maxSteps: 2 } } },
  });
});
afterAll(async () => {
  await m?.close();
  await fake?.close();
});

/** Ordinary traffic: store then retrieve, one pair after the other, at least `min` pairs and until `until()` holds; the pairs made. */
async function traffic(key: string, min: number, until: () => boolean = () => true): Promise<number> {
  let pairs = 0;
  while (pairs < min || !until()) {
    const k = `k${pairs % 20}`;
    const stored = await call(`${m.url}/memory/store`, { key, body: { user_id: 'traffic', key: k, data: { n: pairs } } });
    const got = await call(`${m.url}/memory/retrieve?user_id=traffic&key=${k}`, { key });
    expect([stored.status, got.status]).toEqual([200, 200]);
    pairs++;
  }
  return pairs;
}

/** The largest event-loop delay (ms) while `work` runs. */
async function maxDelay(work: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    await work();
  } finally {
    h.disable();
  }
  return h.max / 1e6;
}

/** One hostile call (the fake model asks for the str_replace, then answers) with traffic beside it; the largest delay and the call's answer. */
async function besideHostile(key: string, file = 'big.md'): Promise<{ delay: number; pairs: number; status: number; toolResult: string }> {
  fake.reset(); // a step a failed round left queued must not answer this one
  script(fake, [
    () => turn([toolUse({ command: 'str_replace', path: `/memories/${file}`, old_str: 'x', new_str: 'y' })]),
    () => turn([text('It is not unique.')]),
  ]);
  const body = { model: MODEL, max_tokens: 100, tools: [MEMORY_TOOL], memory: { user_id: 'agent' }, messages: [{ role: 'user', content: 'Replace x by y' }] };
  let status = 0;
  let pairs = 0;
  const delay = await maxDelay(async () => {
    const running = call(`${m.url}/claude/message`, { key, body }).then((r) => (status = r.status));
    pairs = await traffic(key, MIN_PAIRS, () => status !== 0);
    await running;
  });
  return { delay, pairs, status, toolResult: toolResults(fake.requests.at(-1)!)[0]?.content ?? '' };
}

it(`a str_replace on a memory of ${LINES} short lines leaves the other calls' event-loop delay as it was`, async () => {
  const { api_key: key } = await m.ai.api.keys.create();
  const file = Array.from({ length: LINES }, () => 'x').join('\n');
  expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'agent', key: 'big.md', data: file } })).status).toBe(200);
  // Warm-up (the same calls on a small file): both measurements then run JIT-compiled code.
  expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'agent', key: 'small.md', data: 'x\nx' } })).status).toBe(200);
  await besideHostile(key, 'small.md');

  // The machine is shared: another process may pause this one in either measurement. Both last the
  // same number of calls (equal exposure), and a stall of the hostile call shows in every round, so
  // one round within the margin, in which the call really ran the tool on the whole file, settles it
  // (at most 5 rounds). A gap of a second or more is no scheduling noise: no other round is needed.
  const ran = /^No replacement was performed\. Multiple occurrences of old_str `x` in lines: 1, 2, 3, /;
  const settled = (r: { gap: number; status: number; toolResult: string }) => r.gap >= 1000 || (r.gap <= 50 && r.status === 200 && ran.test(r.toolResult));
  const rounds: string[] = [];
  let last: { gap: number; status: number; toolResult: string } | undefined;
  for (let round = 0; round < 5 && !(last && settled(last)); round++) {
    const beside = await besideHostile(key);
    const alone = await maxDelay(() => traffic(key, beside.pairs));
    last = { ...beside, gap: beside.delay - alone };
    rounds.push(`traffic alone ${alone.toFixed(1)} ms, beside the ${LINES}-line str_replace ${beside.delay.toFixed(1)} ms (${beside.status})`);
  }
  console.log(`event-loop max delay: ${rounds.join('; ')}`);
  expect(last!.gap).toBeLessThanOrEqual(50);
  expect(last!.status).toBe(200);
  expect(last!.toolResult).toMatch(ran);
}, 300_000);
