// x402 over MCP (the x402 MCP transport binding): the official x402 client signs what a tool error asks, the retry carries it in _meta, settled on anvil.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { Wallet } from '../support/chain.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { relayerPayments, startX402Chain, type X402Chain } from '../support/x402.js';
import { mcpClient, sc } from './support.js';

let x: X402Chain;
beforeAll(async () => {
  x = await startX402Chain();
});
afterAll(async () => {
  await x?.chain.stop();
});
const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** The official x402 client paying from `payer` (the test token opted in and capped, as in the HTTP x402 test). */
const payingClient = (payer: Wallet) =>
  registerExactEvmScheme(new x402Client(), { signer: payer.account })
    .setSpendControls({ allowedAssets: [{ network: 'eip155:8453', asset: x.chain.usdc, maxAmountPerPayment: '100000' }] });

describeMounts(
  'mcp: a tool call paid per call with x402 (_meta["x402/payment"])',
  () => ({ freeCallsPerDay: 1, pricing: { '/memory/store': 250 }, payments: relayerPayments(x, { minAmount: 1000 }) }),
  (m: () => Mounted) => {
    const start = async (usdc: bigint) => {
      const { api_key: key, account_id: accountId } = await m().ai.api.keys.create();
      const client = await mcpClient(m().url, key, { 'x-aipaygent-user': 'u1' });
      open.push(client);
      const wallet = await x.chain.newWallet();
      if (usdc > 0n) await x.chain.mint(wallet.address, usdc);
      return { key, accountId, client, wallet };
    };

    it('a call the free calls and balance cannot pay is a tool error with the 402 body and the x402 requirements; the signed retry is served, settled, credited then debited', async () => {
      const { key, accountId, client, wallet } = await start(1_000n);
      await m().ai.api.ledger.grant({ accountId, amountMicroUsd: 100, reason: 'less than one call' });
      expect((await client.callTool({ name: 'memory_store', arguments: { key: 'free', data: 0 } })).isError).toBeFalsy();

      const refused = await client.callTool({ name: 'memory_store', arguments: { key: 'paid', data: { n: 1 } } });
      expect(refused.isError).toBe(true);
      const body = sc(refused);
      expect(body).toMatchObject({ status: 'error', error: { code: 'payment_required' }, payment: { price_micro_usd: 250, balance_micro_usd: 100 } });
      const required = body['x402/error'].data;
      expect(body['x402/error'].code).toBe(402);
      expect(body.payment.x402.pay_this_call).toMatch(/_meta\["x402\/payment"\]/);
      expect(body.error.message).toMatch(/x402\/error in this result/);
      expect(required).toMatchObject({ x402Version: 2, accepts: [{ scheme: 'exact', network: 'eip155:8453', amount: '250', payTo: x.receiver }] });
      // The text content carries the same x402/error wrapper, for clients that read only text.
      expect(JSON.parse((refused.content as any)[0].text)['x402/error'].data).toEqual(required);

      const before = await x.chain.balanceOf(x.receiver);
      const payment = await payingClient(wallet).createPaymentPayload(required);
      const paid = await client.callTool({ name: 'memory_store', arguments: { key: 'paid', data: { n: 1 } }, _meta: { 'x402/payment': payment } });
      expect(paid.isError).toBeFalsy();
      expect(sc(paid)).toMatchObject({ status: 'success', key: 'paid', user_id: 'u1' });
      const settled = (paid._meta as any)['x402/payment-response'];
      expect(settled).toMatchObject({ success: true, network: 'eip155:8453', payer: wallet.address });
      expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);
      expect((paid._meta as any)['aipaygent/balance_micro_usd']).toBe(100);
      expect(await x.chain.balanceOf(x.receiver)).toBe(before + 250n);

      const entries = (await call(`${m().url}/credits/ledger`, { key })).body.entries as any[];
      expect(entries.map((e) => [e.kind, e.amount_micro_usd, e.balance_after])).toEqual([['debit', -250, 100], ['purchase', 250, 350], ['grant', 100, 100]]);
      expect(String(entries[1].memo)).toContain(settled.transaction);
      expect(JSON.parse((await m().ai.api.memory.get(accountId, 'u1', 'paid', Date.now()))!.json)).toEqual({ n: 1 });

      // The same authorization again: refused (its nonce is spent), nothing served or charged.
      const replay = await client.callTool({ name: 'memory_store', arguments: { key: 'again', data: 2 }, _meta: { 'x402/payment': payment } });
      expect(replay.isError).toBe(true);
      expect(sc(replay)['x402/payment-response']).toMatchObject({ success: false, errorReason: 'nonce_already_used' });
      expect((await call(`${m().url}/credits/ledger`, { key })).body.entries).toHaveLength(3);
    });

    it('a payer without the USDC: the retry is a tool error with a failed x402/payment-response; nothing is credited or stored', async () => {
      const { key, client, wallet } = await start(0n);
      await client.callTool({ name: 'memory_store', arguments: { key: 'free', data: 0 } });
      const refused = await client.callTool({ name: 'memory_store', arguments: { key: 'k', data: 1 } });
      const payment = await payingClient(wallet).createPaymentPayload(sc(refused)['x402/error'].data);
      const failed = await client.callTool({ name: 'memory_store', arguments: { key: 'k', data: 1 }, _meta: { 'x402/payment': payment } });
      expect(failed.isError).toBe(true);
      expect(sc(failed)).toMatchObject({ error: { code: 'payment_required' }, reason: 'insufficient_funds', 'x402/payment-response': { success: false, errorReason: 'insufficient_funds' } });
      expect((failed._meta as any)['x402/payment-response']).toMatchObject({ success: false });
      expect((await call(`${m().url}/credits/ledger`, { key })).body.entries).toEqual([]);
    });
  },
);
