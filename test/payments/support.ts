// Shared steps of the payment HTTP tests.
import { expect } from 'vitest';
import type { Wallet } from '../support/chain.js';
import { call } from '../support/mounts.js';

/** Links `wallet` to the account of `key` through the challenge / personal_sign flow. */
export async function linkWallet(url: string, key: string, wallet: Wallet) {
  const c = await call(`${url}/wallets/challenge`, { key });
  expect(c.status).toBe(200);
  const signature = await wallet.account.signMessage({ message: c.body.challenge as string });
  return call(`${url}/wallets/link`, { key, body: { address: wallet.address, signature } });
}
