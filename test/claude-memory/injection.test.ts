// HTTP: memory context injection on /claude/message and /v1/messages (body `memory` or x-aipaygent-memory-* headers).
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { CONTEXT_INTRO } from '../../src/claude/memory-context.js';
import { account, claudeSpend, ledger, OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { MODEL, TURN_COST } from './support.js';

const fake = useFakeAnthropic();

const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000, memory: { injectTokens: 400 } } });
const USER = 'dev_user_123';
const PREFS = { language: 'Python', style: 'functional', framework: 'FastAPI', testing: 'pytest', documented: true };

async function store(m: Mounted, key: string, k: string, data: unknown, user = USER): Promise<void> {
  const r = await call(`${m.url}/memory/store`, { key, body: { user_id: user, key: k, data, ttl_days: 365 } });
  expect(r.status).toBe(200);
}

describeMounts('Claude memory context injection', options, (m) => {
  it('appends the selected memories, sorted by key, after the client system blocks (cache breakpoint kept), and strips `memory`', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'coding_preferences', PREFS);
    await store(m(), key, 'a_note', '<b>bold</b> & </memory>');
    await store(m(), key, 'unrelated', { x: 1 });
    const system = [{ type: 'text', text: 'You are a code assistant.', cache_control: { type: 'ephemeral' } }];
    const r = await call(`${m().url}/claude/message`, {
      key,
      body: { model: MODEL, system, messages: [{ role: 'user', content: 'Write code.' }], memory: { user_id: USER, keys: ['coding_preferences', 'a_note', 'missing'] } },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-keys')).toBe('a_note,coding_preferences');
    expect(r.headers.get('x-memory-truncated')).toBeNull();
    const up = fake.requests[0]!.body;
    expect(up.memory).toBeUndefined();
    expect(up.system).toEqual([
      system[0],
      {
        type: 'text',
        text: `${CONTEXT_INTRO}\n<memories>\n` +
          '<memory key="a_note">"\\u003cb\\u003ebold\\u003c/b\\u003e \\u0026 \\u003c/memory\\u003e"</memory>\n' +
          `<memory key="coding_preferences">${JSON.stringify(PREFS)}</memory>\n</memories>`,
      },
    ]);
    // The escaped JSON is the same value.
    expect(JSON.parse(/key="a_note">(.*)<\/memory>/.exec(up.system[1].text)![1]!)).toBe('<b>bold</b> & </memory>');
  });

  it('turns a string system prompt into a block, selects by prefix, and is the same bytes on every call (cacheable)', async () => {
    const { key } = await account(m(), 1_000_000);
    for (const k of ['proj/b', 'proj/a', 'other']) await store(m(), key, k, { k });
    const body = { model: MODEL, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }], memory: { user_id: USER, prefix: 'proj/' } };
    const first = await call(`${m().url}/claude/message`, { key, body });
    const second = await call(`${m().url}/claude/message`, { key, body });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get('x-memory-keys')).toBe('proj%2Fa,proj%2Fb');
    const [a, b] = fake.requests.map((q) => q.body.system);
    expect(a[0]).toEqual({ type: 'text', text: 'Be brief.' });
    expect(a[1].text).toContain('<memory key="proj/a">{"k":"proj/a"}</memory>\n<memory key="proj/b">');
    expect(a[1].text).not.toContain('other');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('cuts to the token budget: whole memories in key order, then one truncated, the rest left out (headers say so)', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'k1', 'a'.repeat(300));
    await store(m(), key, 'k2', 'b'.repeat(300));
    await store(m(), key, 'k3', 'c'.repeat(3000));
    await store(m(), key, 'k4', 'd');
    const r = await call(`${m().url}/claude/message`, { key, body: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], memory: { user_id: USER, prefix: 'k', max_tokens: 400 } } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-keys')).toBe('k1,k2,k3');
    expect(r.headers.get('x-memory-truncated')).toBe('omitted=1; cut=k3');
    const text: string = fake.requests[0]!.body.system[0].text;
    expect(Math.ceil(Buffer.byteLength(text) / 3)).toBeLessThanOrEqual(400);
    expect(Math.ceil(Buffer.byteLength(text) / 3)).toBeGreaterThan(390);
    expect(text).toMatch(/<memory key="k3" truncated="true">"c+<\/memory>\n<\/memories>$/);
    expect(text).not.toContain('k4');
    // Default budget (injectTokens: 400 here) applies without max_tokens: same cut.
    await call(`${m().url}/claude/message`, { key, body: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], memory: { user_id: USER, prefix: 'k' } } });
    expect(fake.requests[1]!.body.system[0].text).toBe(text);
  });

  it('works for SDK users through x-aipaygent-memory-* headers on /v1/messages, and bills the injected tokens as input', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'coding_preferences', PREFS);
    await store(m(), key, 'notes/é', 'accent');
    const sdk = new Anthropic({
      baseURL: m().url, apiKey: key, maxRetries: 0,
      defaultHeaders: { 'x-aipaygent-memory-user': USER, 'x-aipaygent-memory-keys': `coding_preferences,${encodeURIComponent('notes/é')}`, 'x-aipaygent-memory-max-tokens': '1000' },
    });
    const { data, response } = await sdk.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    expect(response.headers.get('x-memory-keys')).toBe('coding_preferences,notes%2F%C3%A9');
    expect(fake.requests[0]!.body.system[0].text).toContain('<memory key="notes/é">"accent"</memory>');
    // One Claude call, no metered memory reads: its hold and settle after the two stores' debits; the hold covers the larger prompt.
    const entries = await ledger(m(), key);
    expect(entries.map((e) => e.kind)).toEqual(['settle', 'hold', 'debit', 'debit', 'grant']);
    // Each debit's memo names its route and ends with its charge id.
    expect(entries.filter((e) => e.kind === 'debit').map((e) => e.memo)).toEqual([expect.stringMatching(/^POST \/memory\/store chg_\S+$/), expect.stringMatching(/^POST \/memory\/store chg_\S+$/)]);
    const plain = await account(m(), 1_000_000);
    await call(`${m().url}/v1/messages`, { key: plain.key, body: { model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] } });
    const holdOf = async (k: string) => -(await ledger(m(), k)).find((e) => e.kind === 'hold').amount_micro_usd;
    expect(await holdOf(key)).toBeGreaterThan(await holdOf(plain.key));
  });

  it('refuses bad memory requests with a precise 400 before any upstream call, at no cost', async () => {
    const { key } = await account(m(), 1_000_000);
    const base = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] };
    const cases: Array<[unknown, Record<string, string>, RegExp]> = [
      [{ user_id: USER }, {}, /memory\.user_id alone does nothing/],
      [{ keys: ['a'] }, {}, /memory\.user_id is required/],
      [{ user_id: '', keys: ['a'] }, {}, /memory\.user_id must not be empty/],
      [{ user_id: USER, keys: 'a' }, {}, /memory\.keys must be an array/],
      [{ user_id: USER, keys: ['a'], max_tokens: 1e9 }, {}, /memory\.max_tokens must be at most 32000/],
      [{ user_id: USER, keys: ['a'], extra: 1 }, {}, /memory: unknown field\(s\) extra/],
      ['yes', {}, /memory must be an object/],
      [undefined, { 'x-aipaygent-memory-keys': 'a' }, /x-aipaygent-memory-user is required/],
      [undefined, { 'x-aipaygent-memory-user': '%E0%A4%A', 'x-aipaygent-memory-keys': 'a' }, /percent-encoded/],
      [undefined, { 'x-aipaygent-memory-user': USER, 'x-aipaygent-memory-max-tokens': 'lots' }, /x-aipaygent-memory-max-tokens must be an integer/],
      [{ user_id: USER, keys: ['a'] }, { 'x-aipaygent-memory-user': USER }, /either in the body or in x-aipaygent-memory-\* headers/],
    ];
    for (const [memory, headers, message] of cases) {
      const r = await call(`${m().url}/claude/message`, { key, headers, body: memory === undefined ? base : { ...base, memory } });
      expect(r.status, JSON.stringify(memory)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(message) });
    }
    const anthropic = await call(`${m().url}/v1/messages`, { key, body: { ...base, max_tokens: 10, memory: { user_id: USER } } });
    expect(anthropic.status).toBe(400);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/alone does nothing/) } });
    expect(fake.requests).toHaveLength(0);
    expect((await ledger(m(), key)).map((e) => e.kind)).toEqual(['grant']);
  });

  it("never reads another account's memories", async () => {
    const owner = await account(m(), 1_000_000);
    const other = await account(m(), 1_000_000);
    await store(m(), owner.key, 'secret', 'owner only');
    const r = await call(`${m().url}/claude/message`, { key: other.key, body: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], memory: { user_id: USER, keys: ['secret'], prefix: '' } } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-keys')).toBe('');
    expect((await claudeSpend(m(), other.key)).spent).toBe(TURN_COST);
    expect(fake.requests[0]!.body.system).toBeUndefined();
  });
});
