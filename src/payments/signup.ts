// Wallet sign-up: a single-use nonce, a SIWE message that proves the wallet, then one account per wallet (linked to it) and a new API key.
import { createHash, randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import type { CreatedKey } from '../keys/key-service.js';
import { RateLimiter } from '../meter/rate-limit.js';
import type { Store } from '../storage/contract.js';
import type { ChainClient } from './chain.js';
import type { SignupConfig } from './signup-config.js';
import { checkSiwe, signupMessage, verifySiwe, type SiweMalformed, type SiweRefusal } from './siwe.js';
import { checksummed, type WalletService } from './wallets.js';
import type { X402PayResult, X402Service } from './x402-service.js';
import { ipBucket, shardOf, signupAccountId } from './signup-ids.js';

/** Issued nonces (key: the nonce), in a shard account chosen by the nonce: tag 'issued', then 'used'. */
const NONCE_COLLECTION = 'signup-nonce';
/** The account's opening record: written once, by the sign-up that opened it (after its fee, if any). */
const OPENED_COLLECTION = 'signup';
const OPENED_KEY = 'account';
const ISSUED = 'issued';
const USED = 'used';
/** How long a used or expired nonce is still known, so that a late replay hears why. */
const NONCE_MEMORY_MS = 3_600_000;
const HOUR = 3600;

/** What sign-up needs of the key service: only create, and the account's keys to list them. */
export interface KeyIssuer {
  create(options: { accountId?: string; label?: string }): Promise<CreatedKey>;
  list(accountId: string, now: number): Promise<Array<{ keyId: string; active: boolean; createdAt: number }>>;
}

export type RateLimited = { ok: false; reason: 'rate_limited'; per: 'ip' | 'wallet'; limit: number; retryAfterSeconds: number };

export type ChallengeResult =
  | { ok: true; nonce: string; issuedAt: number; expiresAt: number; message: string | undefined }
  | RateLimited
  | { ok: false; reason: 'bad_checksum'; message: string };

export type SignupResult =
  | {
      ok: true;
      /** True for the one request that opened the account. */
      created: boolean;
      accountId: string;
      address: string;
      key: CreatedKey;
      /** The account's other keys, oldest first (revoked ones included). */
      previousKeys: Array<{ keyId: string; active: boolean; createdAt: number }>;
      /** The sign-up fee this request paid (0: none due), and the x402 settlement that paid it. */
      feeMicroUsd: number;
      payment: { transaction: string; responseHeader: string } | undefined;
    }
  | SiweMalformed
  | SiweRefusal
  | { ok: false; reason: 'unknown_nonce' | 'nonce_expired' | 'nonce_used' | 'bad_signature'; message: string }
  | RateLimited
  | { ok: false; reason: 'linked_elsewhere'; message: string }
  /** The fee is due and no payment came: nothing was consumed, retry the same request with PAYMENT-SIGNATURE. */
  | { ok: false; reason: 'fee_required'; feeMicroUsd: number }
  | { ok: false; reason: 'payment_failed'; feeMicroUsd: number; failure: Extract<X402PayResult, { ok: false }> };

const encoder = new TextEncoder();

export class SignupService {
  private readonly perIp: RateLimiter;
  private readonly challengesPerIp: RateLimiter;
  private readonly perWallet: RateLimiter;

  constructor(
    private readonly store: Store,
    private readonly keys: KeyIssuer,
    private readonly wallets: WalletService,
    private readonly chain: ChainClient,
    private readonly x402: X402Service | undefined,
    readonly config: SignupConfig,
  ) {
    this.perIp = new RateLimiter(store, { requests: config.perIpPerHour, windowSeconds: HOUR }, 'signup-ip');
    this.challengesPerIp = new RateLimiter(store, { requests: config.perIpPerHour, windowSeconds: HOUR }, 'signup-challenge-ip');
    this.perWallet = new RateLimiter(store, { requests: config.perWalletPerHour, windowSeconds: HOUR }, 'signup-wallet');
  }

  /** The fee an account opening costs now (undefined: free). */
  get feeMicroUsd(): number | undefined {
    return this.x402 ? this.config.feeMicroUsd : undefined;
  }

  /** A new single-use nonce; with `address` (0x + 40 hex), also the EIP-4361 message to sign with it. */
  async challenge(ip: string | undefined, address: string | undefined, now: number): Promise<ChallengeResult> {
    const checked = address === undefined ? undefined : checksummed(address);
    if (address !== undefined && !checked) return { ok: false, reason: 'bad_checksum', message: 'address is mixed-case with a wrong EIP-55 checksum (a typo?): check it, or send it in lower case' };
    const limited = await this.limit(this.challengesPerIp, ip, now);
    if (limited) return limited;
    const nonce = randomBytes(16).toString('hex');
    const expiresAt = now + this.config.challengeTtlMs;
    const value = encoder.encode(String(expiresAt));
    await this.store.put(shardOf('nonce', nonce), NONCE_COLLECTION, nonce, { value, size: value.length, tag: ISSUED, expiresAt: expiresAt + NONCE_MEMORY_MS }, now, { absent: true });
    return { ok: true, nonce, issuedAt: now, expiresAt, message: checked && signupMessage(this.config, checked, nonce, now, expiresAt) };
  }

  /**
   * Signs up the wallet that signed `message`: its account (opened now if it has none) gets a new API key.
   * Nothing is consumed before the proof is checked and the limits passed; the fee's 402 consumes nothing either.
   */
  async signUp(input: { message: string; signature: Hex; ip: string | undefined; payment: string | undefined }, now: number): Promise<SignupResult> {
    const limited = await this.limit(this.perIp, input.ip, now);
    if (limited) return limited;
    const checked = checkSiwe(input.message, this.config, now);
    if (!checked.ok) return checked;
    const { address, nonce } = checked.fields;
    const scope = shardOf('nonce', nonce);
    const issued = await this.store.get(scope, NONCE_COLLECTION, nonce, now);
    if (!issued) return { ok: false, reason: 'unknown_nonce', message: 'This nonce was not issued by this server (or long ago): GET /signup/challenge for one' };
    if (issued.tag === USED) return { ok: false, reason: 'nonce_used', message: 'This nonce was already used: GET /signup/challenge for a new one, and sign again' };
    if (Number(new TextDecoder().decode(issued.value)) <= now) return { ok: false, reason: 'nonce_expired', message: 'This nonce expired: GET /signup/challenge for a new one, and sign again' };
    if (!(await verifySiwe(this.chain, input.message, input.signature, checked.fields, now))) {
      return { ok: false, reason: 'bad_signature', message: `The signature is not a signature of this message by ${address}` };
    }

    // The wallet is proven: its account's id is derived from it, so concurrent first sign-ups meet on one id.
    const accountId = signupAccountId(address);
    const linked = await this.wallets.attach(accountId, address, now);
    if (!linked.ok) {
      return { ok: false, reason: 'linked_elsewhere', message: 'This wallet is linked to an account that wallet sign-up did not open: use that account\'s API keys' };
    }
    const opened = (await this.store.get(accountId, OPENED_COLLECTION, OPENED_KEY, now)) !== null;
    const fee = opened ? undefined : this.feeMicroUsd;
    if (fee !== undefined && input.payment === undefined) return { ok: false, reason: 'fee_required', feeMicroUsd: fee };
    const walletLimited = await this.limit(this.perWallet, input.ip, now, accountId);
    if (walletLimited) return walletLimited;

    // Single use: only the request that turns this exact version into 'used' goes on.
    const used = await this.store.put(scope, NONCE_COLLECTION, nonce, { value: issued.value, size: issued.size, tag: USED, expiresAt: issued.expiresAt }, now, { version: issued.version });
    if (!used.ok) return { ok: false, reason: 'nonce_used', message: 'This nonce was just used by another request: GET /signup/challenge for a new one, and sign again' };

    // The fee is paid into the account first, and taken from it only once the key exists: a sign-up that
    // fails after the payment leaves it as the account's credit, never charged for nothing.
    let payment: { transaction: string; responseHeader: string } | undefined;
    if (fee !== undefined) {
      const paid = await this.x402!.pay(accountId, input.payment!, fee, now);
      if (!paid.ok) return { ok: false, reason: 'payment_failed', feeMicroUsd: fee, failure: paid };
      payment = { transaction: paid.transaction, responseHeader: paid.responseHeader };
    }
    // Exactly one request writes the opening record: it is the one that "created" the account.
    const record = encoder.encode(JSON.stringify({ address, opened_at: now, fee_micro_usd: fee ?? 0 }));
    const created = opened ? false : (await this.store.put(accountId, OPENED_COLLECTION, OPENED_KEY, { value: record, size: record.length, tag: '', expiresAt: null }, now, { absent: true })).ok;
    const key = await this.keys.create({ accountId, label: `wallet sign-up ${address}` });
    if (fee !== undefined) await this.debitFee(accountId, fee, now);
    const previousKeys = (await this.keys.list(accountId, now)).filter((k) => k.keyId !== key.key_id).map(({ keyId, active, createdAt }) => ({ keyId, active, createdAt }));
    return { ok: true, created, accountId, address, key, previousKeys, feeMicroUsd: fee ?? 0, payment };
  }

  /**
   * Takes the fee once per account: the debit's reference is unique per account, so two paying requests
   * racing to open it pay the fee once, and the other payment stays as the account's credit.
   */
  private async debitFee(accountId: string, fee: number, now: number): Promise<void> {
    const debit = await this.store.post(accountId, { amount: -fee, kind: 'debit', reference: 'signup-fee', memo: 'wallet sign-up fee' }, now);
    if (!debit.ok && debit.reason === 'insufficient_funds') throw new Error(`signup: the fee could not be debited after its payment (balance ${debit.balance})`);
  }

  /** Counts one request against `limiter` (per IP bucket, or per wallet account); the refusal when over. */
  private async limit(limiter: RateLimiter, ip: string | undefined, now: number, walletAccount?: string): Promise<RateLimited | undefined> {
    const bucket = ipBucket(ip);
    const decision = walletAccount ? await limiter.hit(walletAccount, 'wallet', now) : await limiter.hit(shardOf('ip', bucket), hashed(bucket), now);
    if (decision.allowed) return undefined;
    return {
      ok: false, reason: 'rate_limited', per: walletAccount ? 'wallet' : 'ip', limit: decision.limit,
      retryAfterSeconds: Math.max(1, Math.ceil((decision.resetAt - now) / 1000)),
    };
  }
}

const hashed = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
