// API keys: create (shown once), authenticate against the stored hash, revoke at once.
import type { ChargeAuth, Store } from '../storage/contract.js';
import { checkText } from '../text.js';
import { accountOfKeyId, hashSecret, isAccountId, newAccountId, newApiKey, newKeyId, parseApiKey, sameSecret } from './api-key.js';

/** Keys live in their account's own collection, next to its money and memory. */
export const KEYS_COLLECTION = 'keys';

/**
 * A key record is compact because it is read on every request: the value is the 32-byte SHA-256
 * of the key followed by the UTF-8 label, and the tag says whether it is active or revoked (the
 * record's updatedAt is then the revocation time). No JSON to parse on the hot path.
 */
const ACTIVE = 'active';
const REVOKED = 'revoked';

/** A key's claimed caller plus the check that proves it inside `store.charge` (see `KeyService.chargeAuth`). */
export interface ChargeCredential {
  claimed: { accountId: string; keyId: string };
  auth: ChargeAuth;
}

export interface CreatedKey {
  status: 'success';
  api_key: string;
  key_id: string;
  account_id: string;
}


/** A key as the operator sees it: never its secret, nor its hash. */
export interface KeyInfo {
  keyId: string;
  label: string;
  active: boolean;
  createdAt: number;
  /** When it was revoked; null while active. */
  revokedAt: number | null;
}

/** Keys one account may list in one call (accounts hold a handful; this bounds the reads). */
const MAX_LISTED_KEYS = 1000;

export class KeyService {
  constructor(private readonly store: Store) {}

  /** Creates a key for a new account, or for `accountId` when given. The API key is returned only here. */
  async create(options: { accountId?: string; label?: string } = {}): Promise<CreatedKey> {
    const accountId = options.accountId ?? newAccountId();
    if (!isAccountId(accountId)) throw new TypeError(`keys.create: "${accountId}" is not an account id`);
    checkText('label', options.label);
    const keyId = newKeyId(accountId);
    const apiKey = newApiKey(keyId);
    const now = Date.now();
    const value = Buffer.concat([hashSecret(apiKey), Buffer.from(options.label ?? '', 'utf8')]);
    await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size: value.length, tag: ACTIVE, expiresAt: null }, now, { absent: true });
    return { status: 'success', api_key: apiKey, key_id: keyId, account_id: accountId };
  }

  /** The caller of an API key, or undefined when it is unknown, revoked or malformed. One store read. */
  async authenticate(apiKey: string, now: number): Promise<{ accountId: string; keyId: string } | undefined> {
    const claimed = parseApiKey(apiKey);
    if (!claimed) return undefined;
    const stored = await this.store.get(claimed.accountId, KEYS_COLLECTION, claimed.keyId, now);
    if (!stored || stored.tag !== ACTIVE) return undefined;
    return sameSecret(apiKey, stored.value.subarray(0, 32)) ? claimed : undefined;
  }

  /**
   * For metered calls: who a well-formed API key claims to be, and the check `store.charge` runs on
   * its record in the same atomic operation as the charge (ChargeAuth: live, 'active', same hash),
   * so that verifying the key costs no round trip of its own. Nothing is verified here: the claimed
   * caller must not be acted for before that charge said yes. undefined when it is not an API key.
   */
  chargeAuth(apiKey: string): ChargeCredential | undefined {
    const claimed = parseApiKey(apiKey);
    if (!claimed) return undefined;
    return { claimed, auth: { collection: KEYS_COLLECTION, key: claimed.keyId, tag: ACTIVE, hash: hashSecret(apiKey) } };
  }

  /** The keys of an account, oldest first (revoked ones included); [] for an account that does not exist. */
  async list(accountId: string, now: number): Promise<KeyInfo[]> {
    if (!isAccountId(accountId)) return [];
    const metas = await this.store.list(accountId, KEYS_COLLECTION, { limit: MAX_LISTED_KEYS }, now);
    const records = await Promise.all(metas.map((m) => this.store.get(accountId, KEYS_COLLECTION, m.key, now)));
    const keys = records.flatMap((r) =>
      r ? [{ keyId: r.key, label: Buffer.from(r.value.subarray(32)).toString('utf8'), active: r.tag === ACTIVE, createdAt: r.createdAt, revokedAt: r.tag === ACTIVE ? null : r.updatedAt }] : [],
    );
    // Key ids are random: the store lists them in id order, the operator reads them oldest first.
    return keys.sort((a, b) => a.createdAt - b.createdAt || (a.keyId < b.keyId ? -1 : 1));
  }

  /** Whether the account has ever had a key (revoked ones count): accounts exist only through their keys. */
  async hasKeys(accountId: string, now: number): Promise<boolean> {
    return (await this.store.list(accountId, KEYS_COLLECTION, { limit: 1 }, now)).length > 0;
  }

  /** Revokes a key; false when no such key exists. Takes effect on the next request, in every process. */
  async revoke(keyId: string): Promise<boolean> {
    const accountId = accountOfKeyId(keyId);
    if (!accountId) return false;
    for (;;) {
      const now = Date.now();
      const stored = await this.store.get(accountId, KEYS_COLLECTION, keyId, now);
      if (!stored) return false;
      if (stored.tag === REVOKED) return true;
      const { value, size } = stored;
      const put = await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size, tag: REVOKED, expiresAt: null }, now, { version: stored.version });
      if (put.ok) return true;
    }
  }
}
