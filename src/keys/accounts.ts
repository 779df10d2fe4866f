// Accounts for the operator: the registry in creation order (paged), and one account's balance, keys, ledger and wallets.
import { linkedWallets, type LinkedWallet } from '../payments/wallet-records.js';
import type { LedgerEntry, Store } from '../storage/contract.js';
import { keysOf, listKeys, type KeyInfo } from './key-list.js';
import { parseRegistryKey, registryKey, registryPage } from './key-record.js';

export interface AccountPageQuery {
  /** 1..200. */
  limit: number;
  /** The registry key the previous page ended with (AccountPage.next). */
  after?: string | undefined;
  /** Only accounts created at or after this time (epoch ms). */
  createdFrom?: number | undefined;
  /** Only accounts created before this time (epoch ms). */
  createdTo?: number | undefined;
  /** Only these accounts (e.g. those active in a span of days, from the usage counters' activity index). */
  only?: ReadonlySet<string> | undefined;
}

export interface AccountSummary {
  accountId: string;
  createdAt: number;
  balance: number;
  keysActive: number;
  keysTotal: number;
}

export interface AccountPage {
  accounts: AccountSummary[];
  /** Where the next page starts (a registry key); null on the last page. */
  next: string | null;
}

export interface AccountDetail {
  accountId: string;
  createdAt: number;
  balance: number;
  keys: KeyInfo[];
  /** The last entries, newest first. */
  ledger: LedgerEntry[];
  wallets: LinkedWallet[];
}

/** Registry entries one page may walk past when `only` filters them: a page can then end early, with a cursor. */
export const MAX_SCANNED = 10_000;
const SCAN_BATCH = 1000;

/** Ledger entries an account's detail shows. */
export const DETAIL_LEDGER_ENTRIES = 20;

export class AccountService {
  constructor(private readonly store: Store) {}

  /** A page of accounts in creation order, each with its balance and key counts (their reads run in parallel). */
  async page(query: AccountPageQuery, now: number): Promise<AccountPage> {
    const { limit, createdFrom, createdTo, only } = query;
    // "<from, 13 digits>:" sorts before every key of an account created at `from` and after every earlier one.
    const from = createdFrom === undefined ? undefined : registryKey(createdFrom, '');
    let after = query.after !== undefined && (from === undefined || query.after > from) ? query.after : from;
    // The registry is in creation order: walk it until the page is full (one more tells whether a next page
    // exists), the creation span or the registry ends, or MAX_SCANNED entries were passed (then the page ends
    // early, its cursor where the walk stopped).
    const shown: Array<{ accountId: string; createdAt: number }> = [];
    let scanned = 0;
    let more = false;
    for (;;) {
      const batch = only === undefined ? limit + 1 - shown.length : SCAN_BATCH;
      const keys = await registryPage(this.store, after, batch, now);
      let ended = keys.length < batch;
      for (const key of keys) {
        const r = parseRegistryKey(key);
        after = key;
        scanned++;
        if (r && createdTo !== undefined && r.createdAt >= createdTo) {
          ended = true;
          break;
        }
        if (!r || (only !== undefined && !only.has(r.accountId))) continue;
        if (shown.length === limit) {
          more = true;
          break;
        }
        shown.push(r);
      }
      if (more || ended) break;
      if (scanned >= MAX_SCANNED) {
        more = true;
        break;
      }
    }
    const accounts = await Promise.all(shown.map((r) => this.summary(r.accountId, r.createdAt, now)));
    if (!more) return { accounts, next: null };
    // A full page continues after its last account; a page cut short by MAX_SCANNED after the last entry walked.
    const last = shown.length === limit ? shown.at(-1)! : undefined;
    return { accounts, next: last ? registryKey(last.createdAt, last.accountId) : after! };
  }

  private async summary(accountId: string, createdAt: number, now: number): Promise<AccountSummary> {
    const [balance, keys] = await Promise.all([this.store.balance(accountId, now), listKeys(this.store, accountId, now)]);
    return { accountId, createdAt, balance, keysActive: keys.filter((k) => k.active).length, keysTotal: keys.length };
  }

  /** One account, or undefined when it does not exist (no catalog and no key record). */
  async detail(accountId: string, now: number): Promise<AccountDetail | undefined> {
    // Existence first: reading the balance of an unknown id could create its money row (Postgres).
    const { keys, createdAt } = await keysOf(this.store, accountId, now);
    if (createdAt === undefined && keys.length === 0) return undefined;
    const [balance, ledger, wallets] = await Promise.all([
      this.store.balance(accountId, now),
      this.store.ledger(accountId, { limit: DETAIL_LEDGER_ENTRIES }),
      linkedWallets(this.store, accountId, now),
    ]);
    // An account made before catalogs existed is as old as its oldest key.
    return { accountId, createdAt: createdAt ?? Math.min(...keys.map((k) => k.createdAt)), balance, keys, ledger, wallets };
  }
}
