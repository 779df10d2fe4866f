// HTTP: Claude billing on Redis, Postgres and SQLite: exact settles, and concurrent holds never overdraw.
import { afterAll, beforeEach, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/claude/estimate.js';
import { DEFAULT_PRICES } from '../../src/claude/default-prices.js';
import { worstCaseCost } from '../../src/claude/prices.js';
import { account, claudeSpend, OPERATOR_KEY, settled } from '../support/claude.js';
import { answer, json, message, sse, startFakeAnthropic, streamFrames } from '../support/fake-anthropic.js';
import { call, describeBackends } from '../support/mounts.js';

const fake = await startFakeAnthropic();
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const MODEL = 'claude-3-5-sonnet-20241022';
const body = { model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Hi' }] };
// What one call holds: the worst case plus the 1 micro-USD that makes every settle write its entry.
const HOLD = worstCaseCost(DEFAULT_PRICES[MODEL]!, estimatePromptTokens(body), 200, 0, 0) + 1;

await describeBackends('Claude billing', (m) => {
  it('bills a JSON call and a streamed call exactly', async () => {
    const { key } = await account(m(), 1_000_000);
    expect((await call(`${m().url}/claude/message`, { key, body })).headers.get('x-cost-micro-usd')).toBe('180');
    expect((await call(`${m().url}/v1/messages`, { key, body: { ...body, stream: true } })).status).toBe(200);
    const { spent, entries } = await settled(m(), key);
    expect(spent).toBe(360);
    expect(entries.map((e) => e.kind)).toEqual(['settle', 'hold', 'settle', 'hold']);
  });

  it('lets exactly as many concurrent calls through as the balance can hold, and never overdraws', async () => {
    const { key } = await account(m(), 3 * HOLD + HOLD - 1);
    // Slow answers: every hold is taken before any settle gives money back.
    fake.setDefault((req, res) => void setTimeout(() => answer(req, res), 400));
    const results = await Promise.all(Array.from({ length: 8 }, () => call(`${m().url}/claude/message`, { key, body })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 402, 402, 402, 402, 402]);
    expect(fake.requests).toHaveLength(3);
    const { spent } = await claudeSpend(m(), key);
    expect(spent).toBe(3 * 180);
    const balance = await call(`${m().url}/credits/balance`, { key });
    expect(balance.body.balance_micro_usd).toBe(4 * HOLD - 1 - 3 * 180);
  });

  it('an upstream message id no store can keep (NUL, huge) is left out of the memo: the call is still billed and settled', async () => {
    const { key } = await account(m(), 1_000_000);
    const odd = { ...message(), id: 'msg_\u0000' + 'x'.repeat(10_000) };
    fake.once((_req, res) => json(res, odd));
    fake.once((_req, res) => sse(res, streamFrames(odd)));
    const r = await call(`${m().url}/claude/message`, { key, body });
    expect([r.status, r.headers.get('x-cost-micro-usd')]).toEqual([200, '180']);
    expect((await call(`${m().url}/claude/message`, { key, body: { ...body, stream: true } })).text).toContain('aipaygent-cost-micro-usd=180');
    const { spent, entries } = await settled(m(), key);
    expect(spent).toBe(360);
    expect(entries.filter((e) => e.kind === 'settle').map((e) => e.memo)).toEqual([expect.stringContaining('message=- '), expect.stringContaining('message=- ')]);
  });
}, { freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0 } });
