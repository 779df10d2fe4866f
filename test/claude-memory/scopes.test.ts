// A Claude call that uses memory needs the memory scopes too: a 'claude' key must not read or write memory through it.
import { expect, it } from 'vitest';
import { OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { ADMIN_TOKEN, call, describeMounts, type Mounted } from '../support/mounts.js';
import { MEMORY_TOOL, MODEL } from './support.js';

const fake = useFakeAnthropic();

const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000 } });

async function keyWith(m: Mounted, account: string | undefined, scopes?: string[]): Promise<{ key: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: { ...(account && { account_id: account }), ...(scopes && { scopes }) } });
  expect(r.status, r.text).toBe(201);
  return { key: r.body.api_key, account: r.body.account_id };
}

describeMounts('memory through a Claude call needs the memory scopes', options, (m) => {
  it('injection needs memory:read, the memory tool memory:write too; header-given memory alike; nothing is charged or sent upstream', async () => {
    const full = await keyWith(m(), undefined);
    expect((await call(`${m().url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: full.account, amount_micro_usd: 1_000_000, reason: 't' } })).status).toBe(201);
    expect((await call(`${m().url}/memory/store`, { key: full.key, body: { user_id: 'u', key: 'secret', data: 'do not leak' } })).status).toBe(200);
    const claudeOnly = await keyWith(m(), full.account, ['claude']);
    const reader = await keyWith(m(), full.account, ['claude', 'memory:read']);
    const messages = [{ role: 'user', content: 'What do you know?' }];
    const inject = { model: MODEL, max_tokens: 100, messages, memory: { user_id: 'u', keys: ['secret'] } };
    const withTool = { ...inject, tools: [MEMORY_TOOL] };
    const balance = async () => (await call(`${m().url}/credits/balance`, { key: full.key })).body.balance_micro_usd as number;
    const before = await balance();

    for (const [path, body, key, missing] of [
      ['/claude/message', inject, claudeOnly.key, 'memory:read'],
      ['/v1/messages', inject, claudeOnly.key, 'memory:read'],
      ['/claude/message', withTool, reader.key, 'memory:write'],
      ['/v1/messages', withTool, reader.key, 'memory:write'],
    ] as const) {
      const r = await call(`${m().url}${path}`, { key, body });
      expect(r.status, `${path} ${r.text}`).toBe(403);
      expect(r.body.error.message).toContain(`"${missing}"`);
    }
    // The same memory asked for with headers.
    const byHeaders = await call(`${m().url}/claude/message`, { key: claudeOnly.key, body: { model: MODEL, max_tokens: 100, messages }, headers: { 'x-aipaygent-memory-user': 'u', 'x-aipaygent-memory-keys': 'secret' } });
    expect(byHeaders.status).toBe(403);
    expect(fake.requests).toHaveLength(0);
    expect(await balance()).toBe(before);

    // A 'claude' key without memory works as before; a reader has memories injected.
    expect((await call(`${m().url}/claude/message`, { key: claudeOnly.key, body: { model: MODEL, max_tokens: 100, messages } })).status).toBe(200);
    const injected = await call(`${m().url}/claude/message`, { key: reader.key, body: inject });
    expect(injected.status, injected.text).toBe(200);
    expect(injected.headers.get('x-memory-keys')).toBe('secret');
  });
});
