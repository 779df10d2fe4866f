// Wallet sign-up on Redis, Postgres and SQLite, and across two servers sharing one store: one account per wallet, one key per nonce, under concurrency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import type { AipaygentOptions } from '../../src/config.js';
import { startChain, type TestChain } from '../support/chain.js';
import { ADMIN_TOKEN, BACKENDS, call, describeBackends, startMount, type Mounted } from '../support/mounts.js';
import { nonceOf, postSignup, siweMessage, DOMAIN } from './signup-support.js';

let chain: TestChain;
let receiver: Address;
beforeAll(async () => {
  chain = await startChain();
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  await chain?.stop();
});

const options = (): AipaygentOptions => ({
  payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1 },
  signup: { domain: DOMAIN, perIpPerHour: 1000, perWalletPerHour: 100 },
});

/** Signs up one wallet `n` times at once through `urls` (round robin; the nonce from one server, the POST to the next), each with its own nonce. */
async function concurrentSignups(urls: string[], n: number) {
  const wallet = await chain.newWallet();
  const messages = await Promise.all(Array.from({ length: n }, async (_, i) => siweMessage(wallet, await nonceOf(urls[i % urls.length]!))));
  return Promise.all(messages.map(async (msg, i) => (await postSignup(urls[(i + 1) % urls.length]!, msg, wallet)).res));
}

function expectOneAccount(answers: Array<{ status: number; body: any }>) {
  expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 201), JSON.stringify(answers.find((a) => a.status >= 300)?.body)).toEqual([]);
  expect(new Set(answers.map((a) => a.body.account_id)).size).toBe(1);
  expect(answers.filter((a) => a.status === 201 && a.body.created === true)).toHaveLength(1);
  expect(new Set(answers.map((a) => a.body.key_id)).size).toBe(answers.length);
}

await describeBackends('wallet sign-up on a real store', (m: () => Mounted) => {
  it('20 concurrent first sign-ups of one wallet: one account, 20 distinct keys, one "created"', async () => {
    const answers = await concurrentSignups([m().url], 20);
    expectOneAccount(answers);
    const keys = await call(`${m().url}/admin/keys?account_id=${answers[0]!.body.account_id}`, { key: ADMIN_TOKEN });
    expect(keys.body.keys).toHaveLength(20);
  });

  it('one signed message posted 10 times at once: exactly one key, the rest 401 nonce_used', async () => {
    const wallet = await chain.newWallet();
    const message = siweMessage(wallet, await nonceOf(m().url));
    const signature = await wallet.account.signMessage({ message });
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(`${m().url}/signup`, { body: { message, signature } })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401 && a.body.reason === 'nonce_used')).toHaveLength(9);
  });

  it('a wallet signing again gets a new key for its account, the older ones listed', async () => {
    const wallet = await chain.newWallet();
    const first = (await postSignup(m().url, siweMessage(wallet, await nonceOf(m().url)), wallet)).res;
    const second = (await postSignup(m().url, siweMessage(wallet, await nonceOf(m().url)), wallet)).res;
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.account_id).toBe(first.body.account_id);
    expect(second.body.previous_keys.map((k: { key_id: string }) => k.key_id)).toEqual([first.body.key_id]);
  });
}, {
  // Read when the mount starts (the chain is up by then): spreading the options calls these getters.
  get payments() {
    return options().payments;
  },
  get signup() {
    return options().signup;
  },
});

// Two servers (two services, as two processes would be) on one Redis and one Postgres: the store alone keeps one account per wallet.
for (const name of ['redis', 'postgres'] as const) {
  const location = await BACKENDS[name]!();
  (location ? describe : describe.skip)(`wallet sign-up across two servers [${name}]`, () => {
    let a: Mounted | undefined;
    let b: Mounted | undefined;
    beforeAll(async () => {
      a = await startMount('express5', { parsed: true, prefix: '/ai', options: { ...options(), ...location!, multiProcess: true } });
      b = await startMount('core', { parsed: false, prefix: '', options: { ...options(), ...location!, multiProcess: true } });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      const { dropPrefix } = await import('../support/cleanup.js');
      await dropPrefix(location!.store, location!.storePrefix);
    });
    it('24 concurrent first sign-ups of one wallet through both servers: one account', async () => {
      expectOneAccount(await concurrentSignups([a!.url, b!.url], 24));
    });
  });
}
