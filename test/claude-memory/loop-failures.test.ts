// HTTP: the memory tool loop when things go wrong: the client leaves mid-loop, the credit runs out, the store fails.
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/claude/estimate.js';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { account, claudeSpend, ledger, OPERATOR_KEY, settled, sseEvents, useFakeAnthropic } from '../support/claude.js';
import { frame, sse, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { call, describeMounts, startMount, type Mounted } from '../support/mounts.js';
import { framesOf, MEMORY_TOOL, MODEL, script, text, toolUse, turn, TURN_COST } from './support.js';

const fake = useFakeAnthropic();

const claude = () => ({ apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5000 });
const USER = 'user_456';
const CONTENT = '# Insights\n' + '- a line that must arrive whole\n'.repeat(200);
const request = (extra: Record<string, unknown> = {}) => ({
  model: MODEL, max_tokens: 1000, tools: [MEMORY_TOOL], memory: { user_id: USER },
  messages: [{ role: 'user', content: 'Remember this.' }], ...extra,
});
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};
const stored = async (m: Mounted, accountId: string, key: string) => {
  const found = await m.ai.api.memory.get(accountId, USER, key, Date.now(), false);
  return found && JSON.parse(found.json);
};

describeMounts('Claude memory tool loop: client disconnects', () => ({ freeCallsPerDay: 0, claude: claude() }), (m) => {
  it('JSON: the client leaves while step 2 runs: the upstream is aborted, both steps are charged, the memory written is whole', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    script(fake, [() => turn([toolUse({ command: 'create', path: '/memories/insights.md', file_text: CONTENT })])]);
    fake.once(() => {}); // step 2 never answers
    const ac = new AbortController();
    const pending = fetch(`${m().url}/claude/message`, {
      method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(request()),
    }).catch((e: unknown) => e);
    await until(() => fake.requests.length === 2);
    ac.abort();
    await pending;
    await fake.requests[1]!.closed;
    expect(fake.requests[1]!.aborted).toBe(true);
    const { spent, entries } = await settled(m(), key);
    // Step 1 as reported; step 2 was cut off after the upstream took the prompt: its estimate is charged (Sonnet 3.5 input: 3 micro-USD a token).
    expect(entries.map((e) => e.kind)).toEqual(['settle', 'hold', 'settle', 'hold']);
    expect(spent).toBe(TURN_COST + 3 * estimatePromptTokens(fake.requests[1]!.body));
    expect(await stored(m(), id, 'insights.md')).toBe(CONTENT);
    expect(fake.requests).toHaveLength(2);
  });

  it('stream: the client leaves during the second turn: the upstream is aborted, the usage so far is charged', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    script(fake, [() => turn([toolUse({ command: 'create', path: '/memories/insights.md', file_text: CONTENT })])]);
    const slow = framesOf(turn([text('x'.repeat(40))]));
    fake.once((req, res) => sse(res, [...slow.slice(0, 4), ...Array(50).fill(frame('ping', { type: 'ping' })), ...slow.slice(4)], 50));
    const ac = new AbortController();
    const res = await fetch(`${m().url}/claude/message`, {
      method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(request({ stream: true })),
    });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('text_delta')) seen += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    await fake.requests[1]!.closed;
    expect(fake.requests[1]!.aborted).toBe(true);
    const { entries } = await settled(m(), key);
    const settles = entries.filter((e) => e.kind === 'settle').map((e) => e.memo);
    expect(settles).toHaveLength(2);
    // The second turn is charged what its stream reported so far (its input and the output deltas seen).
    expect(settles[0]).toMatch(/ in=25 out=[12] /);
    expect(await stored(m(), id, 'insights.md')).toBe(CONTENT);
  });
});

describe('Claude memory tool loop: paying for the steps', () => {
  let m: Mounted;
  beforeAll(async () => {
    m = await startMount('core', { parsed: false, prefix: '', options: { freeCallsPerDay: 2, claude: claude() } });
  });
  afterAll(async () => {
    await m.close();
  });
  const threeSteps = () => script(fake, [
    () => turn([toolUse({ command: 'create', path: '/memories/a.md', file_text: 'a' })]),
    () => turn([toolUse({ command: 'create', path: '/memories/b.md', file_text: 'b' })]),
    () => turn([text('Done.')]),
  ]);

  it("later steps take today's free calls while any is left, then are billed by tokens", async () => {
    const { key } = await account(m, 1_000_000);
    threeSteps();
    const r = await call(`${m.url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-tool-steps')).toBe('3');
    expect(r.headers.get('x-cost-micro-usd')).toBe(String(TURN_COST));
    expect((await ledger(m, key)).map((e) => e.kind)).toEqual(['settle', 'hold', 'grant']);
    expect((await call(`${m.url}/credits/balance`, { key })).body).toMatchObject({ free_calls_remaining: 0 });
  });

  it('when the credit runs out mid-loop, the answer so far comes back marked payment_required', async () => {
    // Learn the first step's hold, then fund an account with exactly that: step 2 (a larger prompt) cannot be held.
    const useFreeCalls = async (k: string) => {
      for (let i = 0; i < 2; i++) expect((await call(`${m.url}/claude/message`, { key: k, body: { model: MODEL, messages: [{ role: 'user', content: 'free' }] } })).status).toBe(200);
    };
    const rich = await account(m, 1_000_000);
    await useFreeCalls(rich.key);
    threeSteps();
    await call(`${m.url}/claude/message`, { key: rich.key, body: request() });
    const firstHold = -(await ledger(m, rich.key)).filter((e) => e.kind === 'hold').at(-1).amount_micro_usd;
    const { key, account: id } = await account(m, firstHold);
    await useFreeCalls(key);
    fake.reset();
    script(fake, [() => turn([text('Saving.'), toolUse({ command: 'create', path: '/memories/a.md', file_text: 'a' })])]);
    const r = await call(`${m.url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-tool-stopped')).toBe('payment_required');
    expect(r.headers.get('x-memory-tool-steps')).toBe('1');
    expect(r.body).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'text', text: 'Saving.' }] });
    expect(fake.requests).toHaveLength(1);
    expect(await stored(m, id, 'a.md')).toBe('a');
    expect((await claudeSpend(m, key)).spent).toBe(TURN_COST);
  });
});

describe('Claude memory tool loop: store faults fail closed', () => {
  let m: Mounted;
  let failPuts = 0;
  beforeAll(async () => {
    const inner = new KeyvStore(new Keyv({ throwOnErrors: true }));
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (prop === 'put' && String(args[1]).startsWith('m:') && failPuts > 0) {
            failPuts--;
            throw new StoreUnavailableError(new Error('injected fault'));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    m = await startMount('core', { parsed: false, prefix: '', options: { store, freeCallsPerDay: 0, claude: claude(), logger: { warn: () => {}, error: () => {} } } });
  });
  afterAll(async () => {
    await m.close();
  });

  it('a memory write the store refuses ends the loop with a 503 that still reports what was charged', async () => {
    const { key } = await account(m, 1_000_000);
    script(fake, [() => turn([toolUse({ command: 'create', path: '/memories/a.md', file_text: 'a' })])]);
    failPuts = 1;
    const r = await call(`${m.url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('store_unavailable');
    expect(r.headers.get('x-cost-micro-usd')).toBe(String(TURN_COST));
    expect(r.headers.get('x-memory-tool-steps')).toBe('1');
    expect(fake.requests).toHaveLength(1);

    script(fake, [() => turn([toolUse({ command: 'create', path: '/memories/a.md', file_text: 'a' })])]);
    failPuts = 1;
    const res = await fetch(`${m.url}/claude/message`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(request({ stream: true })) });
    const events = sseEvents(await res.text());
    expect(events.find(([e]) => e === 'error')?.[1]).toMatchObject({ error: { type: 'api_error', message: expect.stringMatching(/storage backend is unavailable/) } });
    expect(events.some(([e]) => e === 'message_stop')).toBe(false);
    expect(events.at(-2)).toEqual(['comment', `aipaygent-cost-micro-usd=${TURN_COST}`]);
  });
});
