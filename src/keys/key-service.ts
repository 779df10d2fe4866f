// API keys: create (shown once), authenticate against the stored hash, revoke at once.
import type { Store } from '../storage/contract.js';
import { accountOfKeyId, hashSecret, isAccountId, newAccountId, newApiKey, newKeyId, parseApiKey, sameSecret } from './api-key.js';

/** Keys live in their account's own collection, next to its money and memory. */
export const KEYS_COLLECTION = 'keys';

interface KeyRecord {
  hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface CreatedKey {
  status: 'success';
  api_key: string;
  key_id: string;
  account_id: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KeyService {
  constructor(private readonly store: Store) {}

  /** Creates a key for a new account, or for `accountId` when given. The API key is returned only here. */
  async create(options: { accountId?: string; label?: string } = {}): Promise<CreatedKey> {
    const accountId = options.accountId ?? newAccountId();
    if (!isAccountId(accountId)) throw new TypeError(`keys.create: "${accountId}" is not an account id`);
    const keyId = newKeyId(accountId);
    const apiKey = newApiKey(keyId);
    const now = Date.now();
    const record: KeyRecord = { hash: hashSecret(apiKey).toString('base64'), label: options.label ?? null, created_at: now, revoked_at: null };
    const value = encoder.encode(JSON.stringify(record));
    await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size: value.length, tag: '', expiresAt: null }, now, { absent: true });
    return { status: 'success', api_key: apiKey, key_id: keyId, account_id: accountId };
  }

  /** The caller of an API key, or undefined when it is unknown, revoked or malformed. One store read. */
  async authenticate(apiKey: string, now: number): Promise<{ accountId: string; keyId: string } | undefined> {
    const claimed = parseApiKey(apiKey);
    if (!claimed) return undefined;
    const stored = await this.store.get(claimed.accountId, KEYS_COLLECTION, claimed.keyId, now);
    if (!stored) return undefined;
    const record = JSON.parse(decoder.decode(stored.value)) as KeyRecord;
    if (record.revoked_at !== null) return undefined;
    return sameSecret(apiKey, Buffer.from(record.hash, 'base64')) ? claimed : undefined;
  }

  /** Revokes a key; false when no such key exists. Takes effect on the next request, in every process. */
  async revoke(keyId: string): Promise<boolean> {
    const accountId = accountOfKeyId(keyId);
    if (!accountId) return false;
    for (;;) {
      const now = Date.now();
      const stored = await this.store.get(accountId, KEYS_COLLECTION, keyId, now);
      if (!stored) return false;
      const record = JSON.parse(decoder.decode(stored.value)) as KeyRecord;
      if (record.revoked_at !== null) return true;
      const value = encoder.encode(JSON.stringify({ ...record, revoked_at: now }));
      const put = await this.store.put(accountId, KEYS_COLLECTION, keyId, { value, size: value.length, tag: '', expiresAt: null }, now, { version: stored.version });
      if (put.ok) return true;
    }
  }
}
