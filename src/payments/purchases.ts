// Credits USDC transfers read from the chain: each Transfer log at most once, to the account its sender is linked to.
import type { Notifier } from '../observe/webhooks/notifier.js';
import type { Address, Hex } from 'viem';
import type { UsageRecorder } from '../meter/usage.js';
import type { Store } from '../storage/contract.js';
import type { ChainClient, IncomingTransfer } from './chain.js';
import type { PaymentsConfig } from './config.js';
import { unitsToMicroUsd } from './units.js';
import type { WalletService } from './wallets.js';

/** Why a transaction credits nothing; each maps to a precise 4xx. */
export type RejectReason =
  | 'tx_not_found'
  | 'tx_reverted'
  | 'wrong_token'
  | 'wrong_receiver'
  | 'sender_not_linked'
  | 'below_minimum'
  | 'amount_too_large'
  | 'credited_to_another_account';

export type PurchaseResult =
  | { status: 'credited'; creditedMicroUsd: number; alreadyCreditedMicroUsd: number; balance: number; transfers: CreditedTransfer[] }
  | { status: 'pending'; confirmations: number; required: number }
  | { status: 'rejected'; reason: RejectReason; detail?: string };

export interface CreditedTransfer {
  logIndex: number;
  from: Address;
  units: bigint;
  microUsd: number;
  /** false when an earlier submission already credited this log. */
  creditedNow: boolean;
}

/**
 * The insert-once key of one on-chain transfer, shared by every way of crediting it (a submitted
 * tx hash, an x402 settlement): whichever comes first wins, the other finds it taken.
 */
export const transferKey = (chainId: number, hash: string, logIndex: number) => `evm:${chainId}:${hash.toLowerCase()}:${logIndex}`;

export class PurchaseService {
  constructor(
    private readonly store: Store,
    private readonly chain: ChainClient,
    private readonly wallets: WalletService,
    private readonly config: PaymentsConfig,
    /** Counts purchases as credited in the account's usage (in the same store operation). */
    private readonly usage?: UsageRecorder,
    /** credits.purchased, written with the purchase's ledger entry. */
    private readonly notifier?: Notifier,
  ) {}

  /** Verifies `txHash` on-chain and credits what it paid to `accountId`. Never trusts the client beyond the hash. */
  async submit(accountId: string, txHash: Hex, now: number): Promise<PurchaseResult> {
    const hash = txHash.toLowerCase() as Hex;
    const seen = await this.chain.inspect(hash);
    switch (seen.kind) {
      case 'unknown':
        return { status: 'rejected', reason: 'tx_not_found' };
      case 'unmined':
        return { status: 'pending', confirmations: 0, required: this.config.confirmations };
      case 'reverted':
        return { status: 'rejected', reason: 'tx_reverted' };
      case 'no_token_transfer':
        return { status: 'rejected', reason: 'wrong_token' };
      case 'wrong_receiver':
        return { status: 'rejected', reason: 'wrong_receiver' };
    }
    const linked: IncomingTransfer[] = [];
    const linkCache = new Map<string, boolean>();
    for (const t of seen.transfers) {
      const from = t.from.toLowerCase();
      let ok = linkCache.get(from);
      if (ok === undefined) linkCache.set(from, (ok = await this.wallets.isLinked(accountId, from, now)));
      if (ok) linked.push(t);
    }
    if (linked.length === 0) return { status: 'rejected', reason: 'sender_not_linked', detail: seen.transfers[0]!.from };

    const confirmations = Number((await this.chain.blockNumber()) - seen.blockNumber + 1n);
    if (confirmations < this.config.confirmations) return { status: 'pending', confirmations: Math.max(confirmations, 0), required: this.config.confirmations };

    const total = linked.reduce((sum, t) => sum + t.value, 0n);
    if (total < this.config.minAmount) return { status: 'rejected', reason: 'below_minimum', detail: total.toString() };
    // Every amount is converted before anything is credited: a too-large log must not half-credit a transaction.
    const amounts = linked.map((t) => unitsToMicroUsd(t.value, this.config.rate));
    if (amounts.some((a) => a === undefined) || unitsToMicroUsd(total, this.config.rate) === undefined) {
      return { status: 'rejected', reason: 'amount_too_large' };
    }
    return this.credit(accountId, hash, linked.map((t, i) => ({ ...t, microUsd: amounts[i]! })), now);
  }

  /**
   * Credits each transfer once. Order matters for crash safety: the global claim (scope null)
   * first records which account owns the log; the ledger post carries the same key as its
   * per-account reference, which the store inserts once. If the process dies between the two,
   * the claim names this account and the next submission posts again: the reference makes
   * that post land exactly once. A claim naming another account credits nothing here.
   */
  async credit(accountId: string, hash: Hex, transfers: Array<IncomingTransfer & { microUsd: number }>, now: number): Promise<PurchaseResult> {
    const done: CreditedTransfer[] = [];
    let credited = 0;
    let already = 0;
    let balance: number | undefined;
    let foreign = 0;
    for (const t of transfers) {
      const key = transferKey(this.config.chainId, hash, t.logIndex);
      const claim = await this.store.claim(null, key, accountId, null, now);
      if (!claim.inserted && claim.value !== accountId) {
        foreign++;
        continue;
      }
      const row = { logIndex: t.logIndex, from: t.from, units: t.value, microUsd: t.microUsd };
      if (t.microUsd === 0) {
        done.push({ ...row, creditedNow: claim.inserted });
        continue;
      }
      const memo = `USDC transfer ${hash} log ${t.logIndex}`;
      const events = this.notifier?.done('credits.purchased', {
        account_id: accountId, amount_micro_usd: t.microUsd, tx_hash: hash, log_index: t.logIndex, from: t.from, chain_id: this.config.chainId,
      });
      const posted = await this.store.post(accountId, { amount: t.microUsd, kind: 'purchase', reference: key, memo, usage: this.usage?.input(now), events }, now);
      if (posted.ok) this.usage?.active(accountId, now);
      balance = posted.balance;
      if (posted.ok) credited += t.microUsd;
      else already += t.microUsd;
      done.push({ ...row, creditedNow: posted.ok });
    }
    if (done.length === 0 && foreign > 0) return { status: 'rejected', reason: 'credited_to_another_account' };
    balance ??= await this.store.balance(accountId, now);
    return { status: 'credited', creditedMicroUsd: credited, alreadyCreditedMicroUsd: already, balance, transfers: done };
  }
}
