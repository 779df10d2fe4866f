// x402 v2 (exact, EIP-3009) top-ups over real HTTP on every mount, settled on a real anvil chain by a relayer or a facilitator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import type { TestChain, Wallet } from '../support/chain.js';
import { call, describeMounts, startMount, type Mounted } from '../support/mounts.js';
import { decodeHeader as decode, relayerPayments, startX402Chain, topUp } from '../support/x402.js';
import { linkWallet } from './support.js';

let chain: TestChain;
let receiver: Address;
let relayer: Wallet;
beforeAll(async () => {
  ({ chain, receiver, relayer } = await startX402Chain());
});
afterAll(async () => {
  await chain?.stop();
});

const nowS = () => BigInt(Math.floor(Date.now() / 1000));

/** What an x402 client does with a PAYMENT-REQUIRED header: sign its first `accepts` entry (overrides make it wrong). */
async function sign(required: string | null, payer: Wallet, over: { value?: bigint; to?: Address; validAfter?: bigint; validBefore?: bigint; name?: string; token?: Address; nonce?: Hex } = {}) {
  const pr = decode(required);
  const accepted = pr.accepts[0];
  const { authorization, signature } = await chain.signAuthorization(payer, {
    to: over.to ?? accepted.payTo, value: over.value ?? BigInt(accepted.amount),
    validAfter: over.validAfter ?? nowS() - 60n, validBefore: over.validBefore ?? nowS() + 300n, name: over.name, token: over.token, nonce: over.nonce,
  });
  return Buffer.from(JSON.stringify({ x402Version: 2, resource: pr.resource, accepted, payload: { signature, authorization } })).toString('base64');
}

describeMounts(
  'payments: x402 top-up settled by a relayer',
  () => ({ payments: relayerPayments({ chain, receiver, relayer }, { minAmount: 1000 }) }),
  (m: () => Mounted) => {
    const funded = async () => {
      const key = (await m().ai.api.keys.create()).api_key;
      const wallet = await chain.newWallet();
      await chain.mint(wallet.address, 1_000_000n);
      return { key, wallet };
    };

    it('402 with PAYMENT-REQUIRED, then pays with PAYMENT-SIGNATURE: settled on-chain before the credit, PAYMENT-RESPONSE returned', async () => {
      const { key, wallet } = await funded();
      const first = await topUp(m().url, key, 50_000);
      expect(first.status).toBe(402);
      expect(first.body.error.code).toBe('payment_required');
      const required = decode(first.headers.get('payment-required'));
      expect(required).toMatchObject({
        x402Version: 2, resource: { url: `${m().prefix}/buy-credits` },
        accepts: [{ scheme: 'exact', network: 'eip155:8453', amount: '50000', asset: chain.usdc, payTo: receiver, extra: { name: 'USD Coin', version: '2' } }],
      });
      const before = await chain.balanceOf(receiver);
      const header = await sign(first.headers.get('payment-required'), wallet);
      const paid = await topUp(m().url, key, 50_000, header);
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ status: 'success', credited_micro_usd: 50_000, balance_micro_usd: 50_000, payer: wallet.address });
      const response = decode(paid.headers.get('payment-response'));
      expect(response).toMatchObject({ success: true, network: 'eip155:8453', payer: wallet.address, transaction: paid.body.tx_hash });
      expect(await chain.balanceOf(receiver)).toBe(before + 50_000n);

      // The same authorization again: refused, nothing moves, nothing is credited.
      const replay = await topUp(m().url, key, 50_000, header);
      expect([replay.status, replay.body.reason]).toEqual([402, 'nonce_already_used']);
      expect(decode(replay.headers.get('payment-response'))).toMatchObject({ success: false, errorReason: 'nonce_already_used' });
      expect(await chain.balanceOf(receiver)).toBe(before + 50_000n);

      // The settlement tx cannot be credited a second time through POST /buy-credits.
      expect((await linkWallet(m().url, key, wallet)).status).toBe(201);
      await chain.mine(3);
      expect((await call(`${m().url}/buy-credits`, { key, body: { tx_hash: paid.body.tx_hash } })).body).toMatchObject({ credited_micro_usd: 0, balance_micro_usd: 50_000 });
    });

    it('refuses a wrong amount, recipient, validity window, token domain and a malformed header; nothing is settled', async () => {
      const { key, wallet } = await funded();
      const required = (await topUp(m().url, key, 20_000)).headers.get('payment-required');
      const cases: Array<[Parameters<typeof sign>[2], string]> = [
        [{ value: 19_999n }, 'invalid_exact_evm_payload_authorization_value'],
        [{ value: 20_001n }, 'invalid_exact_evm_payload_authorization_value'],
        [{ to: wallet.address }, 'invalid_exact_evm_payload_recipient_mismatch'],
        [{ validBefore: nowS() + 2n }, 'invalid_exact_evm_payload_authorization_valid_before'],
        [{ validBefore: nowS() - 1n }, 'invalid_exact_evm_payload_authorization_valid_before'],
        [{ validAfter: nowS() + 60n }, 'invalid_exact_evm_payload_authorization_valid_after'],
        [{ name: 'USDC' }, 'invalid_exact_evm_payload_signature'],
        [{ token: chain.lookalike }, 'invalid_exact_evm_payload_signature'],
      ];
      for (const [over, reason] of cases) {
        const r = await topUp(m().url, key, 20_000, await sign(required, wallet, over));
        expect([r.status, r.body.reason], JSON.stringify(over, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).toEqual([402, reason]);
      }
      const bad = await topUp(m().url, key, 20_000, 'not base64 json!');
      expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
      expect(await chain.balanceOf(wallet.address)).toBe(1_000_000n);
    });

    it('insufficient funds frees the nonce (nothing reached the chain): the same authorization works once funded', async () => {
      const key = (await m().ai.api.keys.create()).api_key;
      const wallet = await chain.newWallet();
      const header = await sign((await topUp(m().url, key, 30_000)).headers.get('payment-required'), wallet);
      const poor = await topUp(m().url, key, 30_000, header);
      expect([poor.status, poor.body.reason]).toEqual([402, 'insufficient_funds']);
      await chain.mint(wallet.address, 30_000n);
      expect((await topUp(m().url, key, 30_000, header)).body).toMatchObject({ status: 'success', credited_micro_usd: 30_000 });
    });

    it('one authorization sent 8 times at once is settled and credited once', async () => {
      const { key, wallet } = await funded();
      const header = await sign((await topUp(m().url, key, 40_000)).headers.get('payment-required'), wallet);
      const results = await Promise.all(Array.from({ length: 8 }, () => topUp(m().url, key, 40_000, header)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 402).every((r) => r.body.reason === 'nonce_already_used')).toBe(true);
      expect(await chain.balanceOf(wallet.address)).toBe(1_000_000n - 40_000n);
    });

    it('a top-up below the minimum, or both fields, is a precise 400', async () => {
      const key = (await m().ai.api.keys.create()).api_key;
      expect((await topUp(m().url, key, 999)).body.error.message).toContain('below the minimum');
      const both = await call(`${m().url}/buy-credits`, { key, body: { amount_micro_usd: 5000, tx_hash: `0x${'1'.repeat(64)}` } });
      expect([both.status, both.body.error.message]).toEqual([400, expect.stringContaining('exactly one of tx_hash')]);
    });
  },
);

describeMounts(
  'payments: x402 pays a metered call the balance cannot cover',
  () => ({ freeCallsPerDay: 0, pricing: { '/memory/store': 250 }, payments: relayerPayments({ chain, receiver, relayer }) }),
  (m: () => Mounted) => {
    const store = (key: string, data: unknown, signature?: string) =>
      call(`${m().url}/memory/store`, { key, body: { user_id: 'u1', key: 'k', data }, headers: signature ? { 'payment-signature': signature } : {} });

    it('402 offers x402 for the call price; the paid retry is settled, credited, debited and served once', async () => {
      const key = (await m().ai.api.keys.create()).api_key;
      const wallet = await chain.newWallet();
      await chain.mint(wallet.address, 1_000n);
      const unpaid = await store(key, { n: 1 });
      expect(unpaid.status).toBe(402);
      expect(unpaid.body.payment).toMatchObject({ price_micro_usd: 250, buy: { receiver, chain_id: 8453, token: { address: chain.usdc } } });
      expect(decode(unpaid.headers.get('payment-required'))).toMatchObject({ x402Version: 2, resource: { url: `${m().prefix}/memory/store` }, accepts: [{ amount: '250', payTo: receiver }] });

      const before = await chain.balanceOf(receiver);
      const header = await sign(unpaid.headers.get('payment-required'), wallet);
      const paid = await store(key, { n: 1 }, header);
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ status: 'success', message: 'Memory stored successfully' });
      expect(decode(paid.headers.get('payment-response'))).toMatchObject({ success: true, payer: wallet.address });
      expect(paid.headers.get('x-credits-balance-micro-usd')).toBe('0');
      expect(await chain.balanceOf(receiver)).toBe(before + 250n);

      const replay = await store(key, { n: 2 }, header);
      expect([replay.status, replay.body.reason]).toEqual([402, 'nonce_already_used']);
      const short = await store(key, { n: 3 }, await sign(unpaid.headers.get('payment-required'), wallet, { value: 249n }));
      expect([short.status, short.body.reason]).toEqual([402, 'invalid_exact_evm_payload_authorization_value']);
      expect(await chain.balanceOf(receiver)).toBe(before + 250n);
    });
  },
);

/** A facilitator speaking the x402 v2 /settle API; `mode` makes it honest, failing or lying. */
async function startFacilitator(mode: () => 'honest' | 'fail' | 'lie', settler: Wallet, lie: (value: bigint) => Promise<Hex>) {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      void (async () => {
        const { paymentPayload } = JSON.parse(raw);
        const { authorization, signature } = paymentPayload.payload;
        let out: Record<string, unknown>;
        if (mode() === 'fail') out = { success: false, errorReason: 'insufficient_funds', transaction: '', network: 'eip155:8453' };
        else if (mode() === 'lie') out = { success: true, transaction: await lie(BigInt(authorization.value)), network: 'eip155:8453' };
        else out = { success: true, transaction: await chain.settleAuthorization(settler, authorization, signature), network: 'eip155:8453', payer: authorization.from };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(out));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('payments: x402 settled through a facilitator', () => {
  it('credits only what the chain confirms: honest settles, a failure or a lie serves nothing', async () => {
    let mode: 'honest' | 'fail' | 'lie' = 'honest';
    const wallet = await chain.newWallet();
    await chain.mint(wallet.address, 1_000_000n);
    // The lie: a plain transfer by the payer (say, one meant for POST /buy-credits), passed off as this settlement.
    const fac = await startFacilitator(() => mode, await chain.newWallet(), (value) => chain.transfer(wallet, receiver, value));
    const m = await startMount('core', { parsed: false, prefix: '', options: { payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, minAmount: 0, x402: { facilitatorUrl: fac.url } } } });
    try {
      const key = (await m.ai.api.keys.create()).api_key;
      const required = (await topUp(m.url, key, 10_000)).headers.get('payment-required');
      const ok = await topUp(m.url, key, 10_000, await sign(required, wallet));
      expect(ok.body).toMatchObject({ status: 'success', credited_micro_usd: 10_000, balance_micro_usd: 10_000 });

      mode = 'fail';
      const failed = await topUp(m.url, key, 10_000, await sign(required, wallet));
      expect([failed.status, failed.body.reason]).toEqual([402, 'settlement_failed']);

      // The liar answers success with a real transfer from the payer, of the right amount, but not of this authorization.
      mode = 'lie';
      const lied = await topUp(m.url, key, 10_000, await sign(required, wallet));
      expect([lied.status, lied.body.reason]).toEqual([402, 'settlement_unverified']);
      expect(await chain.balanceOf(wallet.address)).toBe(1_000_000n - 20_000n);
      expect((await topUp(m.url, key, 10_000)).body.error.code).toBe('payment_required');
    } finally {
      await m.close();
      await fac.close();
    }
  });
});
