// USDC purchases and wallet linking over real HTTP on every mount, against a real anvil chain (id 8453).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { startChain, type TestChain } from '../support/chain.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { linkWallet } from './support.js';

let chain: TestChain;
let receiver: Address;
beforeAll(async () => {
  chain = await startChain();
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  await chain?.stop();
});

const USDC = (n: number) => BigInt(Math.round(n * 1e6));

describeMounts(
  'payments: USDC purchases',
  () => ({ payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 2, minAmount: 1000, challengeTtlSeconds: 2 } }),
  (m: () => Mounted) => {
    const newKey = async () => (await m().ai.api.keys.create()).api_key;
    /** A funded wallet linked to a new account. */
    const payer = async (usdc = 10) => {
      const key = await newKey();
      const wallet = await chain.newWallet();
      await chain.mint(wallet.address, USDC(usdc));
      expect((await linkWallet(m().url, key, wallet)).status).toBe(201);
      return { key, wallet };
    };
    const buy = (key: string, tx_hash: string) => call(`${m().url}/buy-credits`, { key, body: { tx_hash } });

    it('GET /buy-credits: machine-readable instructions, no auth', async () => {
      const r = await call(`${m().url}/buy-credits`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        status: 'success', chain_id: 8453, network: 'eip155:8453',
        token: { symbol: 'USDC', address: chain.usdc, decimals: 6 }, receiver,
        rate_micro_usd_per_base_unit: '1', minimum_amount_base_units: '1000', minimum_micro_usd: 1000, confirmations_required: 2,
        link_wallet: { challenge: { method: 'GET', path: '/wallets/challenge' }, link: { method: 'POST', path: '/wallets/link' } },
      });
    });

    it('links a wallet with a single-use challenge; reuse, bad signature, expiry and a foreign wallet are refused', async () => {
      const key = await newKey();
      const wallet = await chain.newWallet();
      expect((await call(`${m().url}/wallets/link`, { key, body: { address: wallet.address, signature: `0x${'11'.repeat(65)}` } })).body.error.code).toBe('conflict');

      const c = await call(`${m().url}/wallets/challenge`, { key });
      expect(c.body).toMatchObject({ status: 'success', chain_id: 8453 });
      expect(c.body.challenge).toContain('Nonce: ');
      const other = await chain.newWallet();
      const wrong = await call(`${m().url}/wallets/link`, { key, body: { address: wallet.address, signature: await other.account.signMessage({ message: c.body.challenge }) } });
      expect(wrong.status).toBe(400);
      expect(wrong.body.reason).toBe('bad_signature');

      const signature = await wallet.account.signMessage({ message: c.body.challenge });
      const ok = await call(`${m().url}/wallets/link`, { key, body: { address: wallet.address.toLowerCase(), signature } });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ status: 'success', address: wallet.address, linked: true });
      const again = await call(`${m().url}/wallets/link`, { key, body: { address: wallet.address, signature } });
      expect(again.status).toBe(409);
      expect(again.body.reason).toBe('no_challenge');
      expect((await call(`${m().url}/wallets`, { key })).body.wallets).toEqual([{ address: wallet.address, linked_at: expect.any(String) }]);

      // The same wallet cannot be linked to a second account, even with a valid signature.
      const stranger = await newKey();
      const r = await linkWallet(m().url, stranger, wallet);
      expect(r.status).toBe(409);
      expect(r.body.reason).toBe('linked_elsewhere');

      const late = await call(`${m().url}/wallets/challenge`, { key });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const expired = await call(`${m().url}/wallets/link`, { key, body: { address: other.address, signature: await other.account.signMessage({ message: late.body.challenge }) } });
      expect(expired.status).toBe(409);
      expect(expired.body.reason).toBe('challenge_expired');
    });

    it('links an address written in any case; a mixed-case one with a wrong EIP-55 checksum is a 400, never a 502', async () => {
      const key = await newKey();
      const wallet = await chain.newWallet();
      const c = await call(`${m().url}/wallets/challenge`, { key });
      const signature = await wallet.account.signMessage({ message: c.body.challenge as string });
      // One letter's case flipped: the typo EIP-55 exists to catch (viem's own check used to throw it as a chain fault).
      const at = wallet.address.slice(2).search(/[a-fA-F]/) + 2;
      const letter = wallet.address[at]!;
      const typo = wallet.address.slice(0, at) + (letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase()) + wallet.address.slice(at + 1);
      for (const sig of [`0x${'11'.repeat(65)}`, signature]) {
        const bad = await call(`${m().url}/wallets/link`, { key, body: { address: typo, signature: sig } });
        expect(bad.status).toBe(400);
        expect(bad.body).toMatchObject({ status: 'error', error: { code: 'invalid_request' }, reason: 'bad_checksum' });
      }
      // All capitals carry no checksum (EIP-55): accepted, and answered in the checksummed form.
      const upper = `0x${wallet.address.slice(2).toUpperCase()}`;
      const ok = await call(`${m().url}/wallets/link`, { key, body: { address: upper, signature } });
      expect(ok.status).toBe(201);
      expect(ok.body.address).toBe(wallet.address);
    });

    it('rejects a malformed body precisely', async () => {
      const key = await newKey();
      expect((await buy(key, '0x1234')).body.error).toEqual({ code: 'invalid_request', message: expect.stringContaining('tx_hash must be a transaction hash') });
      expect((await call(`${m().url}/buy-credits`, { key, body: {} })).body.error.message).toContain('exactly one of tx_hash');
      expect((await call(`${m().url}/wallets/link`, { key, body: { address: 'nope', signature: '0x' } })).status).toBe(400);
      expect((await call(`${m().url}/buy-credits`, { body: { tx_hash: `0x${'a'.repeat(64)}` } })).status).toBe(401);
    });

    it('credits a confirmed transfer once: 202 below the confirmations, then 200, then nothing more', async () => {
      const { key, wallet } = await payer();
      const hash = await chain.transfer(wallet, receiver, USDC(2.5));
      const pending = await buy(key, hash);
      expect(pending.status).toBe(202);
      expect(pending.body).toMatchObject({ status: 'pending', confirmations: 1, required: 2 });
      await chain.mine(1);
      const done = await buy(key, hash);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ status: 'success', credited_micro_usd: 2_500_000, balance_micro_usd: 2_500_000 });
      expect(done.body.transfers).toEqual([expect.objectContaining({ from: wallet.address, amount_base_units: '2500000', credited_now: true })]);
      const again = await buy(key, hash.toUpperCase().replace('0X', '0x'));
      expect(again.body).toMatchObject({ status: 'success', credited_micro_usd: 0, already_credited_micro_usd: 2_500_000, balance_micro_usd: 2_500_000 });
    });

    it('a transaction not mined yet is pending with 0 confirmations; an unknown hash is 404', async () => {
      const { key, wallet } = await payer();
      const hash = await chain.pendingTransfer(wallet, receiver, USDC(1));
      try {
        expect((await buy(key, hash)).body).toMatchObject({ status: 'pending', confirmations: 0, required: 2 });
      } finally {
        await chain.mine(2);
      }
      expect((await buy(key, hash)).body).toMatchObject({ status: 'success', credited_micro_usd: 1_000_000 });
      const unknown = await buy(key, `0x${'ab'.repeat(32)}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.reason).toBe('tx_not_found');
    });

    it('refuses a reverted transaction, a look-alike token, another receiver and an amount below the minimum', async () => {
      const { key, wallet } = await payer();
      const reverted = await buy(key, await chain.revertedTransfer(wallet, receiver));
      expect([reverted.status, reverted.body.reason]).toEqual([400, 'tx_reverted']);

      await chain.mint(wallet.address, USDC(5), chain.lookalike);
      const fake = await buy(key, await chain.transfer(wallet, receiver, USDC(5), chain.lookalike));
      expect([fake.status, fake.body.reason]).toEqual([400, 'wrong_token']);

      const elsewhere = await buy(key, await chain.transfer(wallet, (await chain.newWallet()).address, USDC(1)));
      expect([elsewhere.status, elsewhere.body.reason]).toEqual([400, 'wrong_receiver']);

      const tiny = await chain.transfer(wallet, receiver, 999n);
      await chain.mine(1);
      const small = await buy(key, tiny);
      expect([small.status, small.body.reason]).toEqual([400, 'below_minimum']);
    });

    it("somebody else's public transaction credits nothing; the payer's own account is credited once", async () => {
      const { key, wallet } = await payer();
      const hash = await chain.transfer(wallet, receiver, USDC(3));
      await chain.mine(1);
      const thief = await newKey();
      const stolen = await buy(thief, hash);
      expect(stolen.status).toBe(403);
      expect(stolen.body).toMatchObject({ reason: 'sender_not_linked', error: { code: 'forbidden' } });
      // Even a thief who links their own wallet gets nothing from another wallet's transfer.
      expect((await linkWallet(m().url, thief, await chain.newWallet())).status).toBe(201);
      expect((await buy(thief, hash)).status).toBe(403);
      expect((await buy(key, hash)).body).toMatchObject({ credited_micro_usd: 3_000_000 });
    });

    it('credits each matching Transfer log of one transaction', async () => {
      const { key, wallet } = await payer();
      const hash = await chain.transferMany(wallet, [receiver, (await chain.newWallet()).address, receiver], [USDC(1), USDC(4), USDC(0.25)]);
      await chain.mine(1);
      const r = await buy(key, hash);
      expect(r.body).toMatchObject({ status: 'success', credited_micro_usd: 1_250_000 });
      expect(r.body.transfers.map((t: { amount_micro_usd: number }) => t.amount_micro_usd)).toEqual([1_000_000, 250_000]);
    });

    it('50 concurrent submissions of one hash, in mixed letter case, credit exactly once', async () => {
      const { key, wallet } = await payer();
      const hash = await chain.transfer(wallet, receiver, USDC(1.5));
      await chain.mine(1);
      const variants = Array.from({ length: 50 }, (_, i) =>
        `0x${[...hash.slice(2)].map((ch, j) => ((i + j) % 2 ? ch.toUpperCase() : ch)).join('')}` as Hex);
      const results = await Promise.all(variants.map((h) => buy(key, h)));
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(results.reduce((sum, r) => sum + (r.body.credited_micro_usd as number), 0)).toBe(1_500_000);
      expect((await buy(key, hash)).body).toMatchObject({ credited_micro_usd: 0, balance_micro_usd: 1_500_000 });
    });
  },
);

describe('payments: configuration and faults', () => {
  it('GET /buy-credits without payments configured is a precise 404', async () => {
    const { startMount } = await import('../support/mounts.js');
    const m = await startMount('core', { parsed: false, prefix: '' });
    try {
      const r = await call(`${m.url}/buy-credits`);
      expect(r.status).toBe(404);
      expect(r.body.error.message).toContain('not enabled');
    } finally {
      await m.close();
    }
  });

  it('refuses invalid options with one error listing each problem', async () => {
    const { createAipaygent } = await import('../../src/create.js');
    expect(() => createAipaygent({ payments: { receiver: 'bob', chainId: 10, rate: -1, confirmations: 0 } as never })).toThrow(
      /rpcUrl must be an http\(s\) URL \(required on chain 10\)[\s\S]*usdcAddress[\s\S]*receiver must be an EVM address[\s\S]*rate must be/,
    );
  });
});
