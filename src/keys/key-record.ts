// What a key is stored as: its record (hash and metadata, read on every request), the account's key catalog, the account registry.
import type { Expect, Store } from '../storage/contract.js';
import type { Scope } from './scopes.js';

/** Keys live in their account's own collection, next to its money and memory. */
export const KEYS_COLLECTION = 'keys';

/** Metadata after the hash in a key record's value. Times in epoch ms. */
export interface KeyMeta {
  label: string;
  /** Absent: every scope. */
  scopes?: Scope[];
  /** The key's own expiry (the record's expiresAt may be earlier: the end of a rotation's grace). */
  expires_at?: number;
  rotated_from?: string;
  /** Set when the key was rotated: its successor. */
  rotated_to?: string;
  prefix: string;
  /** The key's own spend caps in micro-USD (absent: the `spendCaps` default). */
  daily_spend_cap_micro_usd?: number;
  monthly_spend_cap_micro_usd?: number;
}

/**
 * The non-secret start of every API key of `keyId`: "apg_" and the key id part (28 characters), the
 * whole text before the secret. The first 12 characters alone are the same for every key of an account.
 */
export const keyPrefix = (keyId: string): string => `apg_${keyId.slice(4)}`;

const HASH_BYTES = 32;

/** A key record's value: SHA-256 (32 bytes), 0x00, UTF-8 JSON metadata. */
export function encodeKeyValue(hash: Uint8Array, meta: KeyMeta): Buffer {
  return Buffer.concat([hash, Buffer.from([0]), Buffer.from(JSON.stringify(meta), 'utf8')]);
}

/**
 * The metadata of a key record. Records written before metadata existed are the hash followed by the
 * UTF-8 label without a 0x00 (a label never holds U+0000, see text.ts), and are still read.
 */
export function decodeKeyValue(value: Uint8Array, keyId: string): KeyMeta {
  const rest = Buffer.from(value.buffer, value.byteOffset + HASH_BYTES, Math.max(0, value.length - HASH_BYTES));
  if (rest.length === 0 || rest[0] !== 0) return { label: rest.toString('utf8'), prefix: keyPrefix(keyId) };
  const meta = JSON.parse(rest.subarray(1).toString('utf8')) as KeyMeta;
  return { ...meta, label: meta.label ?? '', prefix: meta.prefix ?? keyPrefix(keyId) };
}

/** One key in its account's catalog. Times in epoch ms. */
export interface CatalogKey {
  key_id: string;
  label: string;
  prefix: string;
  /** null: every scope. */
  scopes: Scope[] | null;
  created_at: number;
  /** When it stops working: its own expiry, or the end of the grace after a rotation. */
  expires_at: number | null;
  revoked_at: number | null;
  rotated_from: string | null;
  rotated_to: string | null;
  daily_spend_cap_micro_usd?: number;
  monthly_spend_cap_micro_usd?: number;
}

/**
 * The account's catalog: expired key records vanish from the store, their catalog entries stay, so the
 * operator still sees every key. Updated with compare-and-set on create, rotate and revoke.
 */
export interface Catalog {
  created_at: number;
  keys: CatalogKey[];
  /** The account's own settings (PATCH /admin/accounts/:id); absent fields take the options' defaults. */
  settings?: AccountSettings;
}

/** An account's own limits and thresholds, in micro-USD (absent or null: the options' default). */
export interface AccountSettings {
  daily_spend_cap_micro_usd?: number | null;
  monthly_spend_cap_micro_usd?: number | null;
  balance_low_threshold_micro_usd?: number | null;
}

const ACCOUNT_COLLECTION = 'account';
const CATALOG_KEY = 'info';

const jsonValue = (v: unknown) => {
  const value = Buffer.from(JSON.stringify(v), 'utf8');
  return { value, size: value.length, tag: '', expiresAt: null };
};

export async function readCatalog(store: Store, accountId: string, now: number): Promise<{ catalog: Catalog; version: number } | null> {
  const r = await store.get(accountId, ACCOUNT_COLLECTION, CATALOG_KEY, now);
  return r && { catalog: JSON.parse(Buffer.from(r.value).toString('utf8')) as Catalog, version: r.version };
}

/**
 * Applies `change` to the account's catalog with compare-and-set, again on a conflict. `change` gets
 * null when there is none yet and returns the new catalog, or undefined to leave it as it is.
 * `known`: the caller knows the state already (null: none yet), which saves the first read.
 */
export async function updateCatalog(
  store: Store, accountId: string, change: (current: Catalog | null) => Catalog | undefined, known?: null,
): Promise<Catalog | undefined> {
  let current: { catalog: Catalog; version: number } | null | undefined = known;
  for (;;) {
    const now = Date.now();
    if (current === undefined) current = await readCatalog(store, accountId, now);
    // A copy: `change` may edit what it is given, and a retry must start from what the store holds.
    const next = change(current && (JSON.parse(JSON.stringify(current.catalog)) as Catalog));
    if (next === undefined) return current?.catalog;
    const expect: Expect = current ? { version: current.version } : { absent: true };
    if ((await store.put(accountId, ACCOUNT_COLLECTION, CATALOG_KEY, jsonValue(next), now, expect)).ok) return next;
    current = undefined;
  }
}

/** The pseudo-account of the account registry: not an account id (acct_…), so never anyone's. */
export const REGISTRY_ACCOUNT = '_registry';
const REGISTRY_COLLECTION = 'accounts';

/** "<13-digit created ms>:<account id>": the registry lists accounts in creation order. */
export const registryKey = (createdAt: number, accountId: string): string => `${String(createdAt).padStart(13, '0')}:${accountId}`;

const REGISTRY_KEY_RE = /^(\d{13}):(acct_[a-z2-7]{16})$/;

export function parseRegistryKey(key: string): { createdAt: number; accountId: string } | undefined {
  const m = REGISTRY_KEY_RE.exec(key);
  return m ? { createdAt: Number(m[1]), accountId: m[2]! } : undefined;
}

/** Adds an account to the registry (again: nothing changes). */
export async function register(store: Store, accountId: string, createdAt: number, now: number): Promise<void> {
  await store.put(REGISTRY_ACCOUNT, REGISTRY_COLLECTION, registryKey(createdAt, accountId), jsonValue({}), now, { absent: true });
}

/** One page of the registry, in creation order: keys strictly after `after`. */
export async function registryPage(store: Store, after: string | undefined, limit: number, now: number): Promise<string[]> {
  const metas = await store.list(REGISTRY_ACCOUNT, REGISTRY_COLLECTION, { limit, ...(after !== undefined && { after }) }, now);
  return metas.map((m) => m.key);
}
