// HTTP: memory injection by search (`memory.query`, "auto" = the last user message) on the Claude routes, with the Anthropic SDK too.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { account, OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { MODEL } from './support.js';

const fake = useFakeAnthropic();

const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000, memory: { injectTokens: 400 } } });
const USER = 'agent_user';

async function store(m: Mounted, key: string, k: string, data: unknown): Promise<void> {
  const r = await call(`${m.url}/memory/store`, { key, body: { user_id: USER, key: k, data } });
  expect(r.status).toBe(200);
}

describeMounts('Claude memory injection by search', options, (m) => {
  it('memory.query injects the best matches, best first, after keys/prefix ones, within the budget; X-Memory-Keys names them', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'backend_stack', { framework: 'FastAPI', database: 'Postgres' });
    await store(m(), key, 'db_notes', { note: 'Postgres vacuum runs nightly; Postgres 16' });
    await store(m(), key, 'pets', { dog: 'Rex' });
    await store(m(), key, 'profile', { name: 'Sam' });
    const r = await call(`${m().url}/claude/message`, {
      key, body: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], memory: { user_id: USER, keys: ['profile'], query: 'postgres' } },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-keys')).toBe('profile,db_notes,backend_stack');
    const text = fake.requests[0]!.body.system.at(-1).text as string;
    expect(text.indexOf('key="profile"')).toBeLessThan(text.indexOf('key="db_notes"'));
    expect(text.indexOf('key="db_notes"')).toBeLessThan(text.indexOf('key="backend_stack"'));
    expect(text).not.toContain('Rex');
  });

  it('"auto" searches with the last user message (text blocks), through x-aipaygent-memory-query with the Anthropic SDK', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'pets', { dog: 'Rex', vet: 'Dr. Müller' });
    await store(m(), key, 'travel', { next: 'Lisbon in May' });
    const client = new Anthropic({ apiKey: key, baseURL: m().url, maxRetries: 0 });
    const { response } = await client.messages
      .create(
        { model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'Plan my trip' }, { role: 'assistant', content: 'Sure.' }, { role: 'user', content: [{ type: 'text', text: 'When is the vet appointment for my dog?' }] }] },
        { headers: { 'x-aipaygent-memory-user': USER, 'x-aipaygent-memory-query': 'auto' } },
      )
      .withResponse();
    expect(response.headers.get('x-memory-keys')).toBe('pets');
    expect(fake.requests[0]!.body.system.at(-1).text).toContain('Dr. M\u00fcller');
  });

  it('a last message with no word injects nothing; a bad or unusable query is a 400 before anything is charged', async () => {
    const { key } = await account(m(), 1_000_000);
    await store(m(), key, 'pets', { dog: 'Rex' });
    const none = await call(`${m().url}/claude/message`, { key, body: { model: MODEL, messages: [{ role: 'user', content: '???' }], memory: { user_id: USER, query: 'auto' } } });
    expect(none.status).toBe(200);
    expect(none.headers.get('x-memory-keys')).toBe('');
    const calls = fake.requests.length;
    for (const [memory, message] of [
      [{ user_id: USER, query: '' }, /memory.query must not be empty/],
      [{ user_id: USER, query: 42 }, /memory.query must be a string/],
      [{ user_id: USER, query: '!!!' }, /memory.query: q has no word/],
    ] as const) {
      const r = await call(`${m().url}/claude/message`, { key, body: { model: MODEL, messages: [{ role: 'user', content: 'x' }], memory } });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    expect(fake.requests.length).toBe(calls);
    const balance = await call(`${m().url}/credits/balance`, { key });
    expect(balance.body.balance_micro_usd).toBeGreaterThan(999_000);
  });
});
