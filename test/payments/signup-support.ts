// Shared steps of the wallet sign-up tests: a nonce, an EIP-4361 message written as an agent writes it (viem), its signature, the POST.
import { createSiweMessage, type CreateSiweMessageParameters } from 'viem/siwe';
import type { Wallet } from '../support/chain.js';
import { call } from '../support/mounts.js';

/** The domain the test servers sign up on: not the address they listen at, so no Host header is ever trusted for it. */
export const DOMAIN = 'agents.example.test';

/** An EIP-4361 message for `wallet` with `nonce`, valid for 5 minutes, with `over` changing any field. */
export function siweMessage(wallet: Wallet, nonce: string, over: Partial<CreateSiweMessageParameters> = {}): string {
  return createSiweMessage({
    address: wallet.address, chainId: 8453, domain: DOMAIN, nonce, uri: `https://${DOMAIN}/signup`, version: '1',
    statement: 'Sign up to aipaygent.', issuedAt: new Date(), expirationTime: new Date(Date.now() + 300_000), ...over,
  });
}

/** GET /signup/challenge: its nonce (fails loudly otherwise). */
export async function nonceOf(url: string): Promise<string> {
  const c = await call(`${url}/signup/challenge`);
  if (c.status !== 200) throw new Error(`GET /signup/challenge answered ${c.status}: ${c.text}`);
  return c.body.nonce as string;
}

/** POST /signup with a message signed by `signer` (default: the wallet itself). */
export async function postSignup(url: string, message: string, signer: Wallet, headers: Record<string, string> = {}) {
  const signature = await signer.account.signMessage({ message });
  return { signature, res: await call(`${url}/signup`, { body: { message, signature }, headers }) };
}

/** The whole sign-up of `wallet`: a nonce, the message, its signature, the POST. */
export async function signUp(url: string, wallet: Wallet, over: Partial<CreateSiweMessageParameters> = {}) {
  const message = siweMessage(wallet, await nonceOf(url), over);
  return { message, ...(await postSignup(url, message, wallet)) };
}
