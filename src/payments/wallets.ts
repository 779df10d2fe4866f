// Wallet linking: a single-use expiring challenge, signed with EIP-191 personal_sign, ties a wallet to one account.
import { randomBytes } from 'node:crypto';
import { getAddress, type Address, type Hex } from 'viem';
import type { Store } from '../storage/contract.js';
import { iso } from '../time.js';
import { linkedWallets, WALLETS_COLLECTION, type LinkedWallet } from './wallet-records.js';
import type { ChainClient } from './chain.js';

export { WALLETS_COLLECTION, type LinkedWallet } from './wallet-records.js';

/** The account's one outstanding challenge: asking again replaces it. */
const CHALLENGE_COLLECTION = 'wallet-challenge';
const CHALLENGE_KEY = 'pending';

interface ChallengeRecord {
  message: string;
  expiresAt: number;
}

export type LinkResult =
  | { ok: true; address: Address; alreadyLinked: boolean }
  | { ok: false; reason: 'bad_checksum' | 'no_challenge' | 'challenge_expired' | 'bad_signature' | 'challenge_used' | 'linked_elsewhere' };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (v: unknown) => {
  const value = encoder.encode(JSON.stringify(v));
  return { value, size: value.length, tag: '' };
};

/**
 * The EIP-55 form of a 0x + 40 hex address, or undefined when it is mixed-case with a wrong checksum
 * (a typo). All lower or all upper case carries no checksum (EIP-55). viem's own checks would throw
 * on both of those, which its callers report as a fault of the chain.
 */
export function checksummed(address: string): Address | undefined {
  const sum = getAddress(address.toLowerCase());
  const hex = address.slice(2);
  const mixed = hex !== hex.toLowerCase() && hex !== hex.toUpperCase();
  return mixed && address !== sum ? undefined : sum;
}

/** The global insert-once key that makes a wallet belong to one account only. */
const walletClaimKey = (address: string) => `wallet:${address.toLowerCase()}`;

export class WalletService {
  constructor(
    private readonly store: Store,
    private readonly chain: ChainClient,
    private readonly options: { chainId: number; challengeTtlMs: number },
  ) {}

  /** Issues a new challenge for `accountId` (replacing any earlier one). */
  async challenge(accountId: string, now: number): Promise<{ message: string; expiresAt: number }> {
    const expiresAt = now + this.options.challengeTtlMs;
    // The message names the account and chain, so a signature cannot be replayed to link another account.
    const message = [
      `aipaygent: link this wallet to account ${accountId}.`,
      'Sign only if you asked for it: transfers from this wallet will credit that account.',
      '',
      `Chain ID: ${this.options.chainId}`,
      `Nonce: ${randomBytes(16).toString('hex')}`,
      `Issued At: ${iso(now)}`,
      `Expiration Time: ${iso(expiresAt)}`,
    ].join('\n');
    // Kept a little past its expiry so that a late attempt hears "expired", not "no challenge".
    const record: ChallengeRecord = { message, expiresAt };
    await this.store.put(accountId, CHALLENGE_COLLECTION, CHALLENGE_KEY, { ...bytes(record), expiresAt: expiresAt + 3_600_000 }, now);
    return { message, expiresAt };
  }

  /** Verifies the signature of the pending challenge, consumes it, and links the wallet (`given`: 0x + 40 hex, any case). */
  async link(accountId: string, given: string, signature: Hex, now: number): Promise<LinkResult> {
    const address = checksummed(given);
    if (!address) return { ok: false, reason: 'bad_checksum' };
    const stored = await this.store.get(accountId, CHALLENGE_COLLECTION, CHALLENGE_KEY, now);
    if (!stored) return { ok: false, reason: 'no_challenge' };
    const challenge = JSON.parse(decoder.decode(stored.value)) as ChallengeRecord;
    if (challenge.expiresAt <= now) return { ok: false, reason: 'challenge_expired' };
    // EOA signatures are recovered locally; smart-contract wallets (ERC-1271/6492) are asked on-chain.
    const valid = await this.chain.rpc('verifying the signature', (c) =>
      c.verifyMessage({ address, message: challenge.message, signature, mode: 'eoa' } as Parameters<typeof c.verifyMessage>[0]),
    );
    if (!valid) return { ok: false, reason: 'bad_signature' };
    // Single use: only the request that deletes this exact version may link with it.
    const consumed = await this.store.delete(accountId, CHALLENGE_COLLECTION, CHALLENGE_KEY, now, { version: stored.version });
    if (!consumed.ok || !consumed.deleted) return { ok: false, reason: 'challenge_used' };
    return this.attach(accountId, address, now);
  }

  /**
   * Links a wallet whose control was proven (a signed challenge, or a wallet sign-up's SIWE message).
   * Global claim first, then the account's own record. A crash between the two leaves a claim
   * naming this account, and the next link of the same wallet completes the record.
   */
  async attach(accountId: string, address: Address, now: number): Promise<LinkResult> {
    const claim = await this.store.claim(null, walletClaimKey(address), accountId, null, now);
    if (!claim.inserted && claim.value !== accountId) return { ok: false, reason: 'linked_elsewhere' };
    const key = address.toLowerCase();
    const existing = await this.store.get(accountId, WALLETS_COLLECTION, key, now);
    if (!existing) {
      await this.store.put(accountId, WALLETS_COLLECTION, key, { ...bytes({ address, linked_at: now }), expiresAt: null }, now, { absent: true });
    }
    return { ok: true, address, alreadyLinked: existing !== null };
  }

  /** True when `address` is linked to `accountId`. One store read. */
  async isLinked(accountId: string, address: string, now: number): Promise<boolean> {
    return (await this.store.get(accountId, WALLETS_COLLECTION, address.toLowerCase(), now)) !== null;
  }

  list(accountId: string, now: number): Promise<LinkedWallet[]> {
    return linkedWallets(this.store, accountId, now);
  }
}
