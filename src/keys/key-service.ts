// API keys: create (shown once), authenticate against the stored hash, list, rotate with a grace period, revoke at once.
import type { Notifier } from '../observe/webhooks/notifier.js';
import type { ChargeAuth, Store } from '../storage/contract.js';
import { checkText } from '../text.js';
import { iso } from '../time.js';
import { accountOfKeyId, hashSecret, isAccountId, newAccountId, newApiKey, newKeyId, parseApiKey, sameSecret } from './api-key.js';
import {
  decodeKeyValue, encodeKeyValue, keyPrefix, KEYS_COLLECTION, readCatalog, register, updateCatalog, type Catalog, type CatalogKey, type KeyMeta,
} from './key-record.js';
import { listKeys, MAX_LISTED_KEYS, type KeyInfo } from './key-list.js';
import { ACTIVE, activeTag, isScope, normalScopes, REVOKED, SCOPES, scopesOfTag, type Scope } from './scopes.js';

export { KEYS_COLLECTION } from './key-record.js';
export type { KeyInfo, KeyStatus } from './key-list.js';

/**
 * A key record is compact because it is read on every request: the value is the 32-byte SHA-256 of
 * the key, 0x00 and JSON metadata (key-record.ts); the tag says whether it is active (and with which
 * scopes, 'active;<scope>,…', which `charge` checks itself) or revoked (the record's updatedAt is then
 * the revocation time); its expiresAt is when the key stops working, so the store refuses it by itself.
 */

/** A key's claimed caller plus the check that proves it inside `store.charge` (see `KeyService.chargeAuth`). */
export interface ChargeCredential {
  claimed: { accountId: string; keyId: string };
  auth: ChargeAuth;
  /** The key as presented: read on its own only when the charge refused it, to tell 403 (scope) from 401. */
  apiKey: string;
}

/** The caller of a verified key. */
export interface KeyCaller {
  accountId: string;
  keyId: string;
  /** undefined: every scope. */
  scopes: Scope[] | undefined;
}

export interface CreatedKey {
  status: 'success';
  api_key: string;
  key_id: string;
  account_id: string;
  label: string;
  prefix: string;
  scopes: Scope[];
  expires_at: string | null;
  created_at: string;
  /** The key's own spend caps (micro-USD); null: the defaults apply. */
  daily_spend_cap_micro_usd: number | null;
  monthly_spend_cap_micro_usd: number | null;
}

export interface CreateKeyOptions {
  /** Another key for this existing account; omitted: a new account. */
  accountId?: string;
  label?: string;
  /** What the key may call (non-empty, known); omitted: everything. */
  scopes?: readonly Scope[];
  /** When the key stops working (epoch ms, in the future); omitted: never. */
  expiresAt?: number;
  /** The key's own spend caps in micro-USD per UTC day and month; omitted: the `spendCaps` defaults. */
  dailySpendCapMicroUsd?: number;
  monthlySpendCapMicroUsd?: number;
}

export type RotateResult =
  | { ok: true; created: CreatedKey & { rotated_from: string; old_key_expires_at: string } }
  | { ok: false; reason: 'not_found' | 'revoked' | 'expired' }
  | { ok: false; reason: 'rotated'; rotatedTo: string };


export const catalogEntry = (keyId: string, meta: KeyMeta, createdAt: number, expiresAt: number | null): CatalogKey => ({
  key_id: keyId, label: meta.label, prefix: meta.prefix, scopes: meta.scopes ?? null, created_at: createdAt, expires_at: expiresAt,
  revoked_at: null, rotated_from: meta.rotated_from ?? null, rotated_to: meta.rotated_to ?? null,
  ...ownCaps(meta),
});

/** The key's own caps, as kept in its record and its catalog entry. */
const ownCaps = (o: { daily_spend_cap_micro_usd?: number | undefined; monthly_spend_cap_micro_usd?: number | undefined }) => ({
  ...(o.daily_spend_cap_micro_usd !== undefined && { daily_spend_cap_micro_usd: o.daily_spend_cap_micro_usd }),
  ...(o.monthly_spend_cap_micro_usd !== undefined && { monthly_spend_cap_micro_usd: o.monthly_spend_cap_micro_usd }),
});

export class KeyService {
  constructor(
    private readonly store: Store,
    /** key.created and key.revoked, written with the key record. */
    private readonly notifier?: Notifier,
  ) {}

  /** Creates a key for a new account, or for `accountId` when given. The API key is returned only here. */
  async create(options: CreateKeyOptions = {}): Promise<CreatedKey> {
    const now = Date.now();
    const { accountId = newAccountId(), label = '', expiresAt } = options;
    if (!isAccountId(accountId)) throw new TypeError(`keys.create: "${accountId}" is not an account id`);
    checkText('label', options.label);
    if (options.scopes !== undefined && (options.scopes.length === 0 || !options.scopes.every(isScope))) {
      throw new TypeError(`keys.create: scopes must be a non-empty list of ${SCOPES.join(', ')}`);
    }
    if (expiresAt !== undefined && !(Number.isSafeInteger(expiresAt) && expiresAt > now)) throw new TypeError('keys.create: expiresAt must be a time in the future (epoch ms)');
    for (const cap of [options.dailySpendCapMicroUsd, options.monthlySpendCapMicroUsd]) {
      if (cap !== undefined && !(Number.isSafeInteger(cap) && cap >= 0)) throw new TypeError('keys.create: spend caps must be non-negative integers of micro-USD');
    }
    const keyId = newKeyId(accountId);
    const meta: KeyMeta = { label, prefix: keyPrefix(keyId), ...ownCaps({ daily_spend_cap_micro_usd: options.dailySpendCapMicroUsd, monthly_spend_cap_micro_usd: options.monthlySpendCapMicroUsd }) };
    const scopes = normalScopes(options.scopes);
    if (scopes) meta.scopes = scopes;
    if (expiresAt !== undefined) meta.expires_at = expiresAt;
    // A new account is in the registry before its first key: a failure in between leaves it visible, with no key.
    const fresh = options.accountId === undefined;
    if (fresh) await register(this.store, accountId, now, now);
    const known = fresh ? null : await this.adopt(accountId, now);
    const apiKey = await this.issue(accountId, keyId, meta, now, known);
    return this.created(apiKey, accountId, keyId, meta, now);
  }

  /**
   * Writes the key record, then its catalog entry (`alsoInCatalog` edits the same catalog update).
   * `known`: the account's catalog is known absent (a new account or one made before the catalog existed).
   */
  private async issue(accountId: string, keyId: string, meta: KeyMeta, now: number, known: { createdAt: number } | null | undefined, alsoInCatalog?: (c: Catalog) => void): Promise<string> {
    const apiKey = newApiKey(keyId);
    const value = encodeKeyValue(hashSecret(apiKey), meta);
    const expiresAt = meta.expires_at ?? null;
    const events = this.notifier?.done('key.created', {
      account_id: accountId, key_id: keyId, label: meta.label, prefix: meta.prefix, scopes: meta.scopes ?? [...SCOPES],
      expires_at: expiresAt === null ? null : iso(expiresAt), rotated_from: meta.rotated_from ?? null,
    });
    await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size: value.length, tag: activeTag(meta.scopes), expiresAt, ...(events && { events }) }, now, { absent: true });
    const entry = catalogEntry(keyId, meta, now, expiresAt);
    await updateCatalog(this.store, accountId, (c) => {
      const catalog = c ?? { created_at: known?.createdAt ?? now, keys: [] };
      catalog.keys.push(entry);
      alsoInCatalog?.(catalog);
      return catalog;
    }, known && null);
    return apiKey;
  }

  /**
   * An existing account without a catalog was made before catalogs existed: it joins the registry now,
   * dated by its oldest key. Returns that date then, undefined when the account has its catalog.
   */
  private async adopt(accountId: string, now: number): Promise<{ createdAt: number } | undefined> {
    if (await readCatalog(this.store, accountId, now)) return undefined;
    const metas = await this.store.list(accountId, KEYS_COLLECTION, { limit: MAX_LISTED_KEYS }, now);
    const createdAt = metas.reduce((min, m) => Math.min(min, m.createdAt), now);
    await register(this.store, accountId, createdAt, now);
    return { createdAt };
  }

  private created(apiKey: string, accountId: string, keyId: string, meta: KeyMeta, now: number): CreatedKey {
    return {
      status: 'success', api_key: apiKey, key_id: keyId, account_id: accountId, label: meta.label, prefix: meta.prefix,
      scopes: meta.scopes ?? [...SCOPES], expires_at: meta.expires_at === undefined ? null : iso(meta.expires_at), created_at: iso(now),
      daily_spend_cap_micro_usd: meta.daily_spend_cap_micro_usd ?? null, monthly_spend_cap_micro_usd: meta.monthly_spend_cap_micro_usd ?? null,
    };
  }

  /** The caller of an API key and its scopes, or undefined when it is unknown, revoked, expired or malformed. One store read. */
  async authenticate(apiKey: string, now: number): Promise<KeyCaller | undefined> {
    const claimed = parseApiKey(apiKey);
    if (!claimed) return undefined;
    const stored = await this.store.get(claimed.accountId, KEYS_COLLECTION, claimed.keyId, now);
    const scopes = stored ? scopesOfTag(stored.tag) : null;
    if (scopes === null || !sameSecret(apiKey, stored!.value.subarray(0, 32))) return undefined;
    return { accountId: claimed.accountId, keyId: claimed.keyId, scopes };
  }

  /**
   * For metered calls: who a well-formed API key claims to be, and the check `store.charge` runs on
   * its record in the same atomic operation as the charge (ChargeAuth: live, 'active' or scoped with
   * `scope`, same hash), so that verifying the key costs no round trip of its own. Nothing is verified
   * here: the claimed caller must not be acted for before that charge said yes. undefined when it is
   * not an API key.
   */
  chargeAuth(apiKey: string, scope?: Scope): ChargeCredential | undefined {
    const claimed = parseApiKey(apiKey);
    if (!claimed) return undefined;
    const auth: ChargeAuth = { collection: KEYS_COLLECTION, key: claimed.keyId, tag: ACTIVE, hash: hashSecret(apiKey) };
    if (scope !== undefined) auth.scope = scope;
    return { claimed, auth, apiKey };
  }

  /** The keys of an account, oldest first, expired and revoked ones included; [] for an account that does not exist. */
  list(accountId: string, now: number): Promise<KeyInfo[]> {
    return listKeys(this.store, accountId, now);
  }

  /** Whether the account exists: it has a key record (revoked ones count) or a catalog (its keys may all have expired). */
  async hasKeys(accountId: string, now: number): Promise<boolean> {
    if ((await this.store.list(accountId, KEYS_COLLECTION, { limit: 1 }, now)).length > 0) return true;
    return (await readCatalog(this.store, accountId, now)) !== null;
  }

  /** Revokes a key; false when no such key exists. Takes effect on the next request, in every process. */
  async revoke(keyId: string): Promise<boolean> {
    const accountId = accountOfKeyId(keyId);
    if (!accountId) return false;
    let now: number;
    for (;;) {
      now = Date.now();
      const stored = await this.store.get(accountId, KEYS_COLLECTION, keyId, now);
      if (!stored || stored.tag === REVOKED) break;
      const { value, size, expiresAt } = stored;
      const events = this.notifier?.done('key.revoked', { account_id: accountId, key_id: keyId, revoked_at: iso(now) });
      const put = await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size, tag: REVOKED, expiresAt, ...(events && { events }) }, now, { version: stored.version });
      if (put.ok) break;
    }
    // Stamped in the catalog too (an expired key is revoked there only: its record is gone).
    let known = false;
    await updateCatalog(this.store, accountId, (c) => {
      const entry = c?.keys.find((k) => k.key_id === keyId);
      known = entry !== undefined;
      if (!entry || entry.revoked_at !== null) return undefined;
      entry.revoked_at = now;
      return c!;
    });
    return known || (await this.store.get(accountId, KEYS_COLLECTION, keyId, now)) !== null;
  }

  /**
   * A new key with the same account, label, scopes and expiry; the old one keeps working for `graceMs`
   * (never past its own expiry; 0: it stops now). The old record is shortened first (compare-and-set,
   * which also makes a second rotation of the same key a conflict), then the new key is written.
   */
  async rotate(keyId: string, graceMs: number): Promise<RotateResult> {
    const accountId = accountOfKeyId(keyId);
    if (!accountId) return { ok: false, reason: 'not_found' };
    for (;;) {
      const now = Date.now();
      const stored = await this.store.get(accountId, KEYS_COLLECTION, keyId, now);
      if (!stored) {
        const entry = (await readCatalog(this.store, accountId, now))?.catalog.keys.find((k) => k.key_id === keyId);
        return { ok: false, reason: !entry ? 'not_found' : entry.revoked_at !== null ? 'revoked' : 'expired' };
      }
      const scopes = scopesOfTag(stored.tag);
      if (scopes === null) return { ok: false, reason: 'revoked' };
      const meta = decodeKeyValue(stored.value, keyId);
      if (meta.rotated_to) return { ok: false, reason: 'rotated', rotatedTo: meta.rotated_to };
      const newId = newKeyId(accountId);
      const oldExpiresAt = Math.min(now + graceMs, stored.expiresAt ?? Infinity);
      const value = encodeKeyValue(stored.value.subarray(0, 32), { ...meta, rotated_to: newId });
      const put = await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size: value.length, tag: stored.tag, expiresAt: oldExpiresAt }, now, { version: stored.version });
      if (!put.ok) continue;
      const next: KeyMeta = { label: meta.label, prefix: keyPrefix(newId), rotated_from: keyId, ...ownCaps(meta) };
      if (scopes) next.scopes = scopes;
      if (meta.expires_at !== undefined) next.expires_at = meta.expires_at;
      const known = await this.adopt(accountId, now);
      const apiKey = await this.issue(accountId, newId, next, now, known, (c) => {
        let old = c.keys.find((k) => k.key_id === keyId);
        if (!old) c.keys.push((old = catalogEntry(keyId, meta, stored.createdAt, null)));
        old.expires_at = oldExpiresAt;
        old.rotated_to = newId;
      });
      return { ok: true, created: { ...this.created(apiKey, accountId, newId, next, now), rotated_from: keyId, old_key_expires_at: iso(oldExpiresAt) } };
    }
  }
}
