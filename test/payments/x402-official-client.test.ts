// The official x402 client (@x402/fetch over @x402/evm's exact scheme) pays our 402s on every mount, settled on a real anvil chain.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { Wallet } from '../support/chain.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { decodeHeader, relayerPayments, startX402Chain, type X402Chain } from '../support/x402.js';

let x: X402Chain;
beforeAll(async () => {
  x = await startX402Chain();
});
afterAll(async () => {
  await x?.chain.stop();
});

interface Exchange {
  paymentSignature: string | null;
  status: number;
  paymentRequired: string | null;
  paymentResponse: string | null;
}

/**
 * The official client paying from `payer`'s viem local account. Its inner fetch is the real one,
 * recorded on the way so the test sees the 402 and the signed retry the client makes by itself.
 */
function officialClient(payer: Wallet) {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const res = await fetch(request);
    exchanges.push({
      paymentSignature: request.headers.get('payment-signature'), status: res.status,
      paymentRequired: res.headers.get('payment-required'), paymentResponse: res.headers.get('payment-response'),
    });
    return res;
  };
  // The test token is not one of the client's default assets (Base USDC lives at another address): opted in, capped.
  const client = registerExactEvmScheme(new x402Client(), { signer: payer.account })
    .setSpendControls({ allowedAssets: [{ network: 'eip155:8453', asset: x.chain.usdc, maxAmountPerPayment: '100000' }] });
  const pay = wrapFetchWithPayment(recording, client);
  const post = async (url: string, key: string, body: unknown) => {
    const res = await pay(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  return { post, exchanges };
}

const ledgerOf = async (m: Mounted, key: string) => (await call(`${m.url}/credits/ledger`, { key })).body.entries as Array<Record<string, unknown>>;

describeMounts(
  'payments: the official x402 client (@x402/fetch + @x402/evm exact) pays',
  () => ({ freeCallsPerDay: 1, pricing: { '/memory/store': 250 }, payments: relayerPayments(x, { minAmount: 1000 }) }),
  (m: () => Mounted) => {
    const payer = async (usdc: bigint) => {
      const wallet = await x.chain.newWallet();
      if (usdc > 0n) await x.chain.mint(wallet.address, usdc);
      return wallet;
    };

    it('a metered memory call the free calls and the balance cannot cover: 402, signed retry, 200 with PAYMENT-RESPONSE; bought then debited', async () => {
      const { api_key: key, account_id: accountId } = await m().ai.api.keys.create();
      await m().ai.api.ledger.grant({ accountId, amountMicroUsd: 100, reason: 'less than one call' });
      const storeUrl = `${m().url}/memory/store`;
      expect((await call(storeUrl, { key, body: { user_id: 'u1', key: 'free', data: 0 } })).status).toBe(200); // today's only free call

      const wallet = await payer(1_000n);
      const before = await x.chain.balanceOf(x.receiver);
      const { post, exchanges } = officialClient(wallet);
      const paid = await post(storeUrl, key, { user_id: 'u1', key: 'paid', data: { n: 1 } });

      expect(exchanges.map((e) => [e.status, e.paymentSignature !== null])).toEqual([[402, false], [200, true]]);
      expect(decodeHeader(exchanges[0]!.paymentRequired)).toMatchObject({ x402Version: 2, accepts: [{ scheme: 'exact', network: 'eip155:8453', amount: '250' }] });
      expect(decodeHeader(exchanges[1]!.paymentSignature)).toMatchObject({ x402Version: 2, accepted: { amount: '250', payTo: x.receiver }, payload: { authorization: { from: wallet.address } } });
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ status: 'success', message: 'Memory stored successfully' });
      const settled = decodePaymentResponseHeader(paid.headers.get('payment-response')!);
      expect(settled).toMatchObject({ success: true, network: 'eip155:8453', payer: wallet.address });
      expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);
      expect(paid.headers.get('x-credits-balance-micro-usd')).toBe('100');
      expect(await x.chain.balanceOf(x.receiver)).toBe(before + 250n);
      expect(await x.chain.balanceOf(wallet.address)).toBe(750n);

      // The ledger, newest first: the call's debit, the x402 purchase of its price, the grant.
      const entries = await ledgerOf(m(), key);
      expect(entries.map((e) => [e.kind, e.amount_micro_usd, e.balance_after])).toEqual([['debit', -250, 100], ['purchase', 250, 350], ['grant', 100, 100]]);
      expect(String(entries[1]!.memo)).toContain(settled.transaction);
      expect(JSON.parse((await m().ai.api.memory.get(accountId, 'u1', 'paid', Date.now()))!.json)).toEqual({ n: 1 });
    });

    it('a POST /buy-credits {amount_micro_usd} top-up: settled on-chain, credited once, in the ledger as a purchase', async () => {
      const { api_key: key } = await m().ai.api.keys.create();
      const wallet = await payer(1_000_000n);
      const before = await x.chain.balanceOf(x.receiver);
      const { post, exchanges } = officialClient(wallet);
      const paid = await post(`${m().url}/buy-credits`, key, { amount_micro_usd: 50_000 });

      expect(exchanges.map((e) => [e.status, e.paymentSignature !== null])).toEqual([[402, false], [200, true]]);
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ status: 'success', credited_micro_usd: 50_000, balance_micro_usd: 50_000, payer: wallet.address });
      const settled = decodePaymentResponseHeader(paid.headers.get('payment-response')!);
      expect(settled).toMatchObject({ success: true, network: 'eip155:8453', payer: wallet.address, transaction: paid.body.tx_hash });
      expect(await x.chain.balanceOf(x.receiver)).toBe(before + 50_000n);
      expect(await x.chain.balanceOf(wallet.address)).toBe(950_000n);
      const entries = await ledgerOf(m(), key);
      expect(entries.map((e) => [e.kind, e.amount_micro_usd, e.balance_after])).toEqual([['purchase', 50_000, 50_000]]);
    });

    it('a payer without the USDC: the client signs, the retry is refused 402 with a failed PAYMENT-RESPONSE, nothing is credited or served', async () => {
      const { api_key: key } = await m().ai.api.keys.create();
      const { post, exchanges } = officialClient(await payer(0n));
      const refused = await post(`${m().url}/buy-credits`, key, { amount_micro_usd: 20_000 });

      expect(exchanges.map((e) => [e.status, e.paymentSignature !== null])).toEqual([[402, false], [402, true]]);
      expect([refused.status, refused.body.reason]).toEqual([402, 'insufficient_funds']);
      expect(decodePaymentResponseHeader(refused.headers.get('payment-response')!)).toMatchObject({ success: false, errorReason: 'insufficient_funds' });
      expect(await ledgerOf(m(), key)).toEqual([]);
    });
  },
);
