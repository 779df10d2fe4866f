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

/** Ordinary traffic: store then retrieve, one pair after the other, at least MIN_PAIRS and until `until()` holds. */
async function traffic(key: string, until: () => boolean): Promise<number> {
  let pairs = 0;
  while (pairs < MIN_PAIRS || !until()) {
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

it(`a str_replace on a memory of ${LINES} short lines leaves the other calls' event-loop delay as it was`, async () => {
  const { api_key: key } = await m.ai.api.keys.create();
  const file = Array.from({ length: LINES }, () => 'x').join('\n');
  expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'agent', key: 'big.md', data: file } })).status).toBe(200);
  await traffic(key, () => true); // warm-up: both measurements then run JIT-compiled code

  const alone = await maxDelay(() => traffic(key, () => true));

  script(fake, [
    () => turn([toolUse({ command: 'str_replace', path: '/memories/big.md', old_str: 'x', new_str: 'y' })]),
    () => turn([text('It is not unique.')]),
  ]);
  let done = false;
  const body = { model: MODEL, max_tokens: 100, tools: [MEMORY_TOOL], memory: { user_id: 'agent' }, messages: [{ role: 'user', content: 'Replace x by y' }] };
  let hostile: Awaited<ReturnType<typeof call>> | undefined;
  const beside = await maxDelay(async () => {
    const running = call(`${m.url}/claude/message`, { key, body }).then((r) => {
      hostile = r;
      done = true;
    });
    await traffic(key, () => done);
    await running;
  });
  console.log(`event-loop max delay: traffic alone ${alone.toFixed(1)} ms, beside the ${LINES}-line str_replace ${beside.toFixed(1)} ms`);

  expect(beside - alone).toBeLessThanOrEqual(50);
  // The hostile call really ran the tool on the whole file.
  expect(hostile!.status).toBe(200);
  const result = toolResults(fake.requests.at(-1)!)[0]!;
  expect(result.content).toMatch(/^No replacement was performed\. Multiple occurrences of old_str `x` in lines: 1, 2, 3, /);
}, 180_000);
