// Shared setup of the x402 tests: the anvil chain with its receiver and relayer, the payments options, the header codec.
import type { Address } from 'viem';
import type { PaymentsOptions } from '../../src/payments/config.js';
import { startChain, type TestChain, type Wallet } from './chain.js';
import { call } from './mounts.js';

export interface X402Chain {
  chain: TestChain;
  /** Where USDC payments go. */
  receiver: Address;
  /** Holds gas and submits the payers' authorizations. */
  relayer: Wallet;
}

/** A fresh anvil chain (id 8453, the USDC-like token deployed), a receiver address and a relayer wallet. */
export async function startX402Chain(): Promise<X402Chain> {
  const chain = await startChain();
  const receiver = (await chain.newWallet()).address;
  const relayer = await chain.newWallet();
  return { chain, receiver, relayer };
}

/** `payments` options settling x402 with the relayer key on `x`'s chain. */
export function relayerPayments(x: X402Chain, over: Partial<PaymentsOptions> = {}): PaymentsOptions {
  return { rpcUrl: x.chain.rpcUrl, usdcAddress: x.chain.usdc, receiver: x.receiver, x402: { relayerKey: x.relayer.key }, ...over };
}

/** base64(JSON) of an x402 v2 header, decoded (a missing header decodes to a SyntaxError). */
export const decodeHeader = (h: string | null) => JSON.parse(Buffer.from(h ?? '', 'base64').toString('utf8'));

/** POST /buy-credits {amount_micro_usd}, with a PAYMENT-SIGNATURE when one is given. */
export const topUp = (url: string, key: string, amount: number, signature?: string) =>
  call(`${url}/buy-credits`, { key, body: { amount_micro_usd: amount }, headers: signature ? { 'payment-signature': signature } : {} });
