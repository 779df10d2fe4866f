// An account's keys as the operator sees them: its catalog merged with its live key records.
import type { Store, StoredRecord } from '../storage/contract.js';
import { isAccountId } from './api-key.js';
import { decodeKeyValue, KEYS_COLLECTION, readCatalog } from './key-record.js';
import { REVOKED, scopesOfTag, type Scope } from './scopes.js';

/** Keys one account may list in one call (accounts hold a handful; this bounds the reads). */
export const MAX_LISTED_KEYS = 1000;

export type KeyStatus = 'active' | 'revoked' | 'expired';

/** A key as the operator sees it: never its secret, nor its hash. */
export interface KeyInfo {
  keyId: string;
  label: string;
  prefix: string;
  /** undefined: every scope. */
  scopes: Scope[] | undefined;
  status: KeyStatus;
  /** status === 'active'. */
  active: boolean;
  createdAt: number;
  /** When it stops (or stopped) working: its own expiry, or the end of a rotation's grace; null: never. */
  expiresAt: number | null;
  /** When it was revoked; null while not revoked. */
  revokedAt: number | null;
  rotatedFrom: string | null;
  rotatedTo: string | null;
  /** The key's own spend caps (micro-USD); null: the defaults apply. */
  dailySpendCapMicroUsd: number | null;
  monthlySpendCapMicroUsd: number | null;
}

/**
 * The keys of an account, oldest first, expired and revoked ones included; [] for an account that
 * does not exist. Two reads: the catalog, and the live records (whose state wins; a record the
 * catalog lacks, e.g. of an account made before catalogs, is listed from the record alone).
 */
export async function listKeys(store: Store, accountId: string, now: number): Promise<KeyInfo[]> {
  return (await keysOf(store, accountId, now)).keys;
}

/** listKeys, with the catalog's `created_at` (undefined: the account has no catalog, e.g. made before catalogs). */
export async function keysOf(store: Store, accountId: string, now: number): Promise<{ keys: KeyInfo[]; createdAt: number | undefined }> {
  if (!isAccountId(accountId)) return { keys: [], createdAt: undefined };
  const [found, records] = await Promise.all([
    readCatalog(store, accountId, now),
    store.entries(accountId, KEYS_COLLECTION, { limit: MAX_LISTED_KEYS }, now),
  ]);
  const live = new Map(records.map((r) => [r.key, r]));
  const keys: KeyInfo[] = [];
  for (const k of found?.catalog.keys ?? []) {
    const r = live.get(k.key_id);
    live.delete(k.key_id);
    const revokedAt = k.revoked_at ?? (r?.tag === REVOKED ? r.updatedAt : null);
    keys.push(info(k.key_id, { ...k, scopes: k.scopes ?? undefined }, k.created_at, r ? r.expiresAt : k.expires_at, revokedAt, r !== undefined, now));
  }
  for (const r of live.values()) keys.push(fromRecord(r, now));
  // Key ids are random: the store lists them in id order, the operator reads them oldest first.
  keys.sort((a, b) => a.createdAt - b.createdAt || (a.keyId < b.keyId ? -1 : 1));
  return { keys, createdAt: found?.catalog.created_at };
}

/** What a listed key shows besides its state. */
interface Shown {
  label: string;
  prefix: string;
  scopes?: Scope[] | undefined;
  rotated_from?: string | null | undefined;
  rotated_to?: string | null | undefined;
  daily_spend_cap_micro_usd?: number | undefined;
  monthly_spend_cap_micro_usd?: number | undefined;
}

function info(keyId: string, shown: Shown, createdAt: number, expiresAt: number | null, revokedAt: number | null, live: boolean, now: number): KeyInfo {
  const status: KeyStatus = revokedAt !== null ? 'revoked' : !live || (expiresAt !== null && expiresAt <= now) ? 'expired' : 'active';
  return {
    keyId, label: shown.label, prefix: shown.prefix, scopes: shown.scopes, status, active: status === 'active', createdAt, expiresAt, revokedAt,
    rotatedFrom: shown.rotated_from ?? null, rotatedTo: shown.rotated_to ?? null,
    dailySpendCapMicroUsd: shown.daily_spend_cap_micro_usd ?? null, monthlySpendCapMicroUsd: shown.monthly_spend_cap_micro_usd ?? null,
  };
}

/** A key the catalog does not list, from its record alone. */
function fromRecord(r: StoredRecord, now: number): KeyInfo {
  const meta = decodeKeyValue(r.value, r.key);
  const scopes = scopesOfTag(r.tag);
  return info(r.key, { ...meta, scopes: scopes === null ? meta.scopes : scopes }, r.createdAt, r.expiresAt, r.tag === REVOKED ? r.updatedAt : null, true, now);
}
