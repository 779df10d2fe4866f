// End to end on anvil: an agent with a funded wallet signs up, buys credits and makes paid memory calls with no operator action;
// the operator learns of each purchase by the `credits.purchased` webhook, verified with the standardwebhooks reference library.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { Wallet } from '../support/chain.js';
import { createClient } from '../../src/client/index.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { decodeHeader, relayerPayments, startX402Chain, type X402Chain } from '../support/x402.js';
import { DOMAIN, nonceOf, siweMessage } from './signup-support.js';

let x: X402Chain;
let rx: Receiver;
const mounts: Mounted[] = [];
beforeAll(async () => {
  x = await startX402Chain();
  rx = await startReceiver();
});
afterAll(async () => {
  for (const m of mounts) await m.close();
  await x?.chain.stop();
  await rx?.close();
});

const PRICE = 250;
const FEE = 50_000;

async function serve(signup: { feeMicroUsd?: number }): Promise<Mounted> {
  const m = await startMount('express5', {
    parsed: true, prefix: '/ai',
    options: {
      freeCallsPerDay: 0, pricing: { '/memory/store': PRICE, '/memory/retrieve': PRICE },
      payments: relayerPayments(x, { confirmations: 1, minAmount: 1000 }), signup: { domain: DOMAIN, ...signup },
      webhooks: [{ url: rx.url, events: ['credits.purchased'], secret: rx.secret }], allowInsecureWebhooks: true, webhookDelivery: { firstRetryMs: 50 },
    },
  });
  mounts.push(m);
  return m;
}

/** An agent: a fresh wallet holding `usdc` base units, and nothing else (no key, no account). */
async function agent(usdc: bigint): Promise<Wallet> {
  const wallet = await x.chain.newWallet();
  await x.chain.mint(wallet.address, usdc);
  return wallet;
}

/** The official x402 client paying from the agent's wallet; `exchanges` records each HTTP round trip. */
function payingFetch(wallet: Wallet) {
  const exchanges: Array<{ status: number; paid: boolean; required: string | null }> = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const res = await fetch(request);
    exchanges.push({ status: res.status, paid: request.headers.has('payment-signature'), required: res.headers.get('payment-required') });
    return res;
  };
  const client = registerExactEvmScheme(new x402Client(), { signer: wallet.account })
    .setSpendControls({ allowedAssets: [{ network: 'eip155:8453', asset: x.chain.usdc, maxAmountPerPayment: '100000' }] });
  const pay = wrapFetchWithPayment(recording, client);
  const post = async (url: string, body: unknown, key?: string) => {
    const res = await pay(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) }, body: JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  return { post, exchanges };
}

/** The verified `credits.purchased` deliveries of an account so far, or once `n` arrived (15 s at most). */
async function purchased(account: string, n = 0) {
  for (const end = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 25))) {
    const got = rx.received.filter((r) => r.type === 'credits.purchased' && r.data.account_id === account);
    if (got.length >= n || Date.now() > end) return got;
  }
}

const ledger = async (m: Mounted, key: string) =>
  ((await call(`${m.url}/credits/ledger`, { key })).body.entries as Array<{ kind: string; amount_micro_usd: number }>).map((e) => [e.kind, e.amount_micro_usd]);

describe('an agent from a funded wallet to paid memory calls, no operator involved', () => {
  it('sign up (SIWE), transfer USDC, POST /buy-credits, paid memory calls with the new key', async () => {
    const m = await serve({});
    const wallet = await agent(5_000_000n);
    // 1. Sign up through the typed client, no key yet: the message as the server prepares it, signed with personal_sign.
    const anonymous = createClient({ baseUrl: m.url });
    const challenge = await anonymous.signup.challenge(wallet.address);
    const signature = await wallet.account.signMessage({ message: challenge.message! });
    const signedUp = { body: await anonymous.signup.submit({ message: challenge.message!, signature }) };
    expect(signedUp.body).toMatchObject({ created: true, address: wallet.address, fee_micro_usd: 0 });
    const key = signedUp.body.api_key;
    const agentClient = createClient({ baseUrl: m.url, apiKey: key });
    // No free calls on this server: the key alone pays nothing yet.
    await expect(agentClient.memory.store({ user_id: 'me', key: 'plan', data: { step: 1 } })).rejects.toMatchObject({ status: 402, code: 'payment_required' });

    // 2. Transfer USDC from the signed-up wallet (already linked to the account), 3. submit it.
    const tx = await x.chain.transfer(wallet, x.receiver, 2_000_000n);
    const bought = await agentClient.buyCredits({ tx_hash: tx });
    expect(bought).toMatchObject({ credited_micro_usd: 2_000_000, balance_micro_usd: 2_000_000, transfers: [{ from: wallet.address, credited_now: true }] });

    // 4. Paid memory calls with the new key.
    const stored = await call(`${m.url}/memory/store`, { key, body: { user_id: 'me', key: 'plan', data: { step: 1 } } });
    expect(stored.status).toBe(200);
    expect(stored.headers.get('x-credits-balance-micro-usd')).toBe(String(2_000_000 - PRICE));
    expect((await agentClient.memory.retrieve('me', 'plan'))?.data).toEqual({ step: 1 });
    expect(await ledger(m, key)).toEqual([['debit', -PRICE], ['debit', -PRICE], ['purchase', 2_000_000]]);
    expect((await call(`${m.url}/credits/balance`, { key })).body.balance_micro_usd).toBe(2_000_000 - 2 * PRICE);

    // 5. The operator's receiver got credits.purchased, signed (the receiver verifies with standardwebhooks, else answers 400).
    const account = signedUp.body.account_id as string;
    const [event, ...more] = await purchased(account, 1);
    expect(more).toEqual([]);
    expect(event!.data).toEqual({
      account_id: account, amount_micro_usd: 2_000_000, tx_hash: tx.toLowerCase(), log_index: expect.any(Number), from: wallet.address,
      chain_id: x.chain.chainId, balance_micro_usd: 2_000_000,
    });
    expect(event!.id).toMatch(/^evt_/);
    expect(Date.parse(event!.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(rx.rejected).toBe(0);
    // The same transaction submitted again credits nothing, and tells nobody again.
    const again = await call(`${m.url}/buy-credits`, { key, body: { tx_hash: tx } });
    expect(again.body).toMatchObject({ credited_micro_usd: 0, transfers: [{ credited_now: false }] });
    // Past the worker's next poll (every second): a second event would have arrived.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await purchased(account)).toHaveLength(1);
  });

  it('with a sign-up fee: the official x402 client pays the 402 of POST /signup by itself, then pays its memory calls the same way', async () => {
    const m = await serve({ feeMicroUsd: FEE });
    const wallet = await agent(1_000_000n);
    const before = await x.chain.balanceOf(x.receiver);
    const { post, exchanges } = payingFetch(wallet);
    const message = siweMessage(wallet, await nonceOf(m.url));
    const signature = await wallet.account.signMessage({ message });

    const signedUp = await post(`${m.url}/signup`, { message, signature });
    // The 402 consumed nothing: the client's automatic retry of the same body (same nonce) opened the account.
    expect(exchanges.map((e) => [e.status, e.paid])).toEqual([[402, false], [201, true]]);
    expect(decodeHeader(exchanges[0]!.required)).toMatchObject({ resource: { url: '/ai/signup' }, accepts: [{ amount: String(FEE), payTo: x.receiver }] });
    expect(signedUp.body).toMatchObject({ status: 'success', created: true, fee_micro_usd: FEE, address: wallet.address });
    expect(decodePaymentResponseHeader(signedUp.headers.get('payment-response')!)).toMatchObject({ success: true, payer: wallet.address });
    expect(await x.chain.balanceOf(x.receiver)).toBe(before + BigInt(FEE));
    const key = signedUp.body.api_key as string;
    expect(await ledger(m, key)).toEqual([['debit', -FEE], ['purchase', FEE]]);
    // The fee paid over x402 is a purchase too: credits.purchased, with the balance right after it (before the fee's debit).
    const [fee] = await purchased(signedUp.body.account_id, 1);
    expect(fee!.data).toMatchObject({ account_id: signedUp.body.account_id, amount_micro_usd: FEE, from: wallet.address, balance_micro_usd: FEE });

    // A paid memory call: 402 for its price, paid by the same client from the same wallet.
    exchanges.length = 0;
    const stored = await post(`${m.url}/memory/store`, { user_id: 'me', key: 'k', data: 'v' }, key);
    expect(stored.status).toBe(200);
    expect(exchanges.map((e) => [e.status, e.paid])).toEqual([[402, false], [200, true]]);
    expect(await x.chain.balanceOf(wallet.address)).toBe(1_000_000n - BigInt(FEE) - BigInt(PRICE));

    // Signing in again costs nothing: a new key for the opened account, no 402.
    exchanges.length = 0;
    const message2 = siweMessage(wallet, await nonceOf(m.url));
    const again = await post(`${m.url}/signup`, { message: message2, signature: await wallet.account.signMessage({ message: message2 }) });
    expect(exchanges.map((e) => e.status)).toEqual([200]);
    expect(again.body).toMatchObject({ created: false, fee_micro_usd: 0, account_id: signedUp.body.account_id });
  });

  it('with a sign-up fee, an unpaid or unpayable sign-up opens nothing and issues no key', async () => {
    const m = await serve({ feeMicroUsd: FEE });
    const poor = await agent(10n);
    const message = siweMessage(poor, await nonceOf(m.url));
    const signature = await poor.account.signMessage({ message });
    const unpaid = await call(`${m.url}/signup`, { body: { message, signature } });
    expect(unpaid.status).toBe(402);
    expect(unpaid.body).toMatchObject({ error: { code: 'payment_required' }, reason: 'fee_required', fee_micro_usd: FEE });
    expect(unpaid.headers.get('payment-required')).toBeTruthy();
    const { post } = payingFetch(poor);
    const refused = await post(`${m.url}/signup`, { message, signature });
    expect(refused.status).toBe(402);
    expect(refused.body.reason).toBe('insufficient_funds');
    expect(refused.body.api_key).toBeUndefined();
  });
});
