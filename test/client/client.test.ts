// aipaygent/client against live mounts: the article's flow, edits, typed errors (402 with `payment`), credits, buying on a real chain, Claude streaming.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { AipaygentClientError, createClient, type AipaygentClient } from '../../src/client/index.js';
import { startChain, type TestChain } from '../support/chain.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, call, startMount, type Mounted, type MountKind } from '../support/mounts.js';

let fake: FakeAnthropic;
let chain: TestChain;
let receiver: Address;
beforeAll(async () => {
  [fake, chain] = await Promise.all([startFakeAnthropic(), startChain()]);
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  await Promise.all([fake?.close(), chain?.stop()]);
});

/** Rejects with the client error a call throws (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<AipaygentClientError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AipaygentClientError);
  return error as AipaygentClientError;
}

const MOUNTS: Array<{ kind: MountKind; parsed: boolean; prefix: string }> = [
  { kind: 'express5', parsed: true, prefix: '/ai' },
  { kind: 'koa2', parsed: false, prefix: '' },
];

for (const spec of MOUNTS) {
  describe(`client [${spec.kind}${spec.prefix ? ` under ${spec.prefix}` : ''}]`, () => {
    let m: Mounted;
    let ai: AipaygentClient;
    let account: string;
    const newClient = async (credit = 0) => {
      const created = (await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} })).body;
      if (credit) await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: created.account_id, amount_micro_usd: credit, reason: 'test' } });
      return { client: createClient({ baseUrl: m.url, apiKey: created.api_key }), account: created.account_id as string };
    };

    beforeAll(async () => {
      m = await startMount(spec.kind, {
        parsed: spec.parsed, prefix: spec.prefix,
        options: {
          freeCallsPerDay: 2,
          claude: { apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 },
          payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1, minAmount: 1000, x402: { facilitatorUrl: 'http://127.0.0.1:9' } },
        },
      });
      ({ client: ai, account } = await newClient(1_000_000));
    });
    afterAll(async () => {
      await m?.close();
    });

    it("runs the article's flow: store, retrieve (null when absent, like .get(\"data\", default)), list, delete, erase", async () => {
      const stored = await ai.memory.store({ user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python', style: 'functional' }, ttl_days: 365 });
      expect(stored).toMatchObject({ status: 'success', message: 'Memory stored successfully', key: 'coding_preferences', user_id: 'dev_user_123' });
      const got = await ai.memory.retrieve<{ language: string }>('dev_user_123', 'coding_preferences');
      expect(got?.data.language).toBe('Python');
      expect(got?.etag).toBe(stored.etag);
      const history = (await ai.memory.retrieve('user_456', 'conversation_history'))?.data ?? { messages: [], insights: [] };
      expect(history).toEqual({ messages: [], insights: [] });

      await ai.memory.store({ user_id: 'dev_user_123', key: 'z_second', data: 2 });
      const page = await ai.memory.list('dev_user_123', { limit: 1 });
      expect(page.keys.map((k) => k.key)).toEqual(['coding_preferences']);
      const next = await ai.memory.list('dev_user_123', { cursor: page.next_cursor! });
      expect(next.keys.map((k) => k.key)).toEqual(['z_second']);
      expect(next.next_cursor).toBeNull();

      expect((await ai.memory.delete('dev_user_123', 'z_second')).deleted).toBe(true);
      const gone = await failure(ai.memory.delete('dev_user_123', 'z_second'));
      expect(gone).toMatchObject({ status: 404, code: 'not_found' });
      expect((await ai.memory.erase('dev_user_123')).deleted_keys).toBe(1);
      expect(await ai.memory.retrieve('dev_user_123', 'coding_preferences')).toBeNull();
    });

    it('appends and patches atomically, and If-Match failures are typed 412 errors', async () => {
      const first = await ai.memory.append({ user_id: 'u', key: 'conversation_history', path: '/messages', items: [{ role: 'user', content: 'hi' }] });
      expect(first.length).toBe(1);
      await ai.memory.append({ user_id: 'u', key: 'conversation_history', path: '/messages', items: [{ role: 'assistant', content: 'hello' }] });
      const merged = await ai.memory.patch({ user_id: 'u', key: 'conversation_history', patch: { insights: [{ topic: 'greeting' }] } });
      await ai.memory.jsonPatch({ user_id: 'u', key: 'conversation_history', operations: [{ op: 'add', path: '/insights/-', value: { topic: 'db' } }] }, { ifMatch: merged.etag });
      const now = await ai.memory.retrieve<{ messages: unknown[]; insights: unknown[] }>('u', 'conversation_history');
      expect(now?.data.messages).toHaveLength(2);
      expect(now?.data.insights).toEqual([{ topic: 'greeting' }, { topic: 'db' }]);
      const stale = await failure(ai.memory.patch({ user_id: 'u', key: 'conversation_history', patch: { x: 1 } }, { ifMatch: merged.etag }));
      expect(stale).toMatchObject({ status: 412, code: 'precondition_failed' });
      const bad = await failure(ai.memory.store({ user_id: '', key: 'k', data: 1 }));
      expect(bad).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(bad.message).toMatch(/user_id/);
    });

    it('credits: balance and ledger; a poor account gets a 402 error carrying the payment object', async () => {
      const balance = await ai.credits.balance();
      expect(balance).toMatchObject({ status: 'success', account_id: account, free_calls_per_day: 2 });
      expect(balance.balance_micro_usd).toBeLessThan(1_000_000);
      const ledger = await ai.credits.ledger({ limit: 2 });
      expect(ledger.entries).toHaveLength(2);
      expect(ledger.entries[0]!.balance_after).toBe(balance.balance_micro_usd);

      const { client: poor } = await newClient();
      await poor.memory.list('u');
      await poor.memory.list('u');
      const refused = await failure(poor.memory.list('u'));
      expect(refused).toMatchObject({ status: 402, code: 'payment_required' });
      expect(refused.payment).toMatchObject({ price_micro_usd: 100, balance_micro_usd: 0, shortfall_micro_usd: 100, free_calls_remaining: 0 });
      expect(refused.payment!.buy.instructions).toEqual({ method: 'GET', path: '/buy-credits' });
      expect(refused.headers?.get('payment-required')).toBeTruthy();
    });

    it('buys credits with a USDC transfer on a real chain (after linking the wallet), and starts an x402 top-up', async () => {
      const { client, account: acct } = await newClient();
      const wallet = await chain.newWallet();
      await chain.mint(wallet.address, 5_000_000n);
      const { challenge } = await client.wallets.challenge();
      expect((await client.wallets.link({ address: wallet.address, signature: await wallet.account.signMessage({ message: challenge }) })).linked).toBe(true);
      expect((await client.buyInstructions()).receiver).toBe(receiver);
      const tx = await chain.transfer(wallet, receiver, 2_000_000n);
      const bought = await client.buyCredits({ tx_hash: tx });
      expect(bought).toMatchObject({ status: 'success', credited_micro_usd: 2_000_000, balance_micro_usd: 2_000_000 });
      expect((await client.credits.balance()).account_id).toBe(acct);
      const again = await client.buyCredits({ tx_hash: tx });
      expect(again).toMatchObject({ status: 'success', credited_micro_usd: 0 });
      const topUp = await failure(client.buyCredits({ amount_micro_usd: 50_000 }));
      expect(topUp).toMatchObject({ status: 402, code: 'payment_required' });
      expect(JSON.parse(Buffer.from(topUp.headers!.get('payment-required')!, 'base64').toString()).accepts[0].payTo).toBe(receiver);
    });

    it('Claude: one message with its cost, and a stream as an async iterator of parsed SSE events', async () => {
      const msg = await ai.claude.message({ model: 'claude-opus-4-1', messages: [{ role: 'user', content: 'hi' }] });
      expect(msg.content[0]!.text).toBe('Hello from the fake Claude.');
      expect(msg.costMicroUsd).toBeGreaterThanOrEqual(0);

      const stream = await ai.claude.stream({ model: 'claude-opus-4-1', messages: [{ role: 'user', content: 'hi' }] });
      const kinds: string[] = [];
      let text = '';
      for await (const ev of stream) {
        kinds.push(ev.event);
        if (ev.event === 'content_block_delta') text += ev.data.delta.text;
      }
      expect(kinds[0]).toBe('message_start');
      expect(kinds.at(-1)).toBe('message_stop');
      expect(text).toBe('Hello from the fake Claude.');
      expect(stream.costMicroUsd).toBeGreaterThan(0);

      const unknown = await failure(ai.claude.message({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }));
      expect(unknown).toMatchObject({ status: 400, code: 'invalid_request' });
    });

    it('admin part (admin token): scoped key, grant, account with its linked wallet, keys, rotate, revoke, accounts', async () => {
      const op = createClient({ baseUrl: m.url, adminToken: ADMIN_TOKEN });
      const created = await op.admin.createKey({ label: 'agent', scopes: ['memory:write', 'memory:read'] });
      expect(created).toMatchObject({ status: 'success', label: 'agent', scopes: ['memory:read', 'memory:write'], expires_at: null });
      const acct = created.account_id;
      const agent = createClient({ baseUrl: m.url, apiKey: created.api_key });
      expect((await agent.memory.store({ user_id: 'u', key: 'k', data: 1 })).status).toBe('success');
      const noPay = await failure(agent.wallets.challenge());
      expect(noPay).toMatchObject({ status: 403, code: 'forbidden' });
      expect(noPay.message).toContain('"payments"');

      const full = await op.admin.createKey({ account_id: acct });
      const payer = createClient({ baseUrl: m.url, apiKey: full.api_key });
      const wallet = await chain.newWallet();
      const { challenge } = await payer.wallets.challenge();
      await payer.wallets.link({ address: wallet.address, signature: await wallet.account.signMessage({ message: challenge }) });
      expect(await op.admin.grant({ account_id: acct, amount_micro_usd: 1234, reason: 'test', reference: `r-${acct}` })).toMatchObject({ granted: true, balance_micro_usd: 1234 });
      expect(await op.admin.grant({ account_id: acct, amount_micro_usd: 1234, reason: 'test', reference: `r-${acct}` })).toMatchObject({ granted: false, duplicate: true });

      const detail = await op.admin.account(acct);
      expect(detail).toMatchObject({ account_id: acct, balance_micro_usd: 1234, balance_usd: '0.001234', wallets: [{ address: wallet.address, linked_at: expect.any(String) }] });
      expect(detail.keys.map((k) => k.key_id)).toEqual([created.key_id, full.key_id]);
      expect(detail.ledger[0]).toMatchObject({ kind: 'grant', amount_micro_usd: 1234 });
      expect((await op.admin.keys(acct)).keys).toEqual(detail.keys);

      const rotated = await op.admin.rotateKey(created.key_id, { grace_seconds: 0 });
      expect(rotated).toMatchObject({ rotated_from: created.key_id, scopes: ['memory:read', 'memory:write'], label: 'agent' });
      expect(await failure(agent.memory.list('u'))).toMatchObject({ status: 401 });
      expect((await createClient({ baseUrl: m.url, apiKey: rotated.api_key }).memory.list('u')).keys).toHaveLength(1);
      expect(await op.admin.revokeKey(rotated.key_id)).toMatchObject({ revoked: true });
      expect((await op.admin.keys(acct)).keys.map((k) => k.status)).toEqual(['expired', 'active', 'revoked']);
      expect((await op.admin.accounts({ limit: 200 })).accounts.map((a) => a.account_id)).toContain(acct);

      // Each credential opens only its own door.
      expect(await failure(createClient({ baseUrl: m.url, adminToken: full.api_key }).admin.accounts())).toMatchObject({ status: 401 });
      expect(await failure(createClient({ baseUrl: m.url, apiKey: ADMIN_TOKEN }).credits.balance())).toMatchObject({ status: 401 });
      await expect(payer.admin.accounts()).rejects.toThrow(/adminToken/);
    });

    it('a wrong key and an unreachable server are typed errors too', async () => {
      const wrong = createClient({ baseUrl: m.url, apiKey: 'apg_wrong' });
      expect(await failure(wrong.credits.balance())).toMatchObject({ status: 401, code: 'unauthorized' });
      const down = createClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'apg_x' });
      expect(await failure(down.credits.balance())).toMatchObject({ status: 0, code: 'network_error' });
    });
  });
}
