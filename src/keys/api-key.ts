// API key and id formats: random, recognizable, and carrying the account so one store slot holds it all.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  // Rejection sampling keeps every character uniform (no modulo bias).
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

const ACCOUNT_RE = /^acct_[a-z2-7]{16}$/;
const KEY_ID_RE = /^key_([a-z2-7]{16})[a-z2-7]{8}$/;
const API_KEY_RE = /^apg_[a-z2-7]{24}_[A-Za-z0-9]{40}$/;

export const newAccountId = (): string => `acct_${randomString(B32, 16)}`;
export const isAccountId = (s: string): boolean => ACCOUNT_RE.test(s);

/** A key id embeds its account's id, so revoking by key id needs no global index. */
export const newKeyId = (accountId: string): string => `key_${accountId.slice(5)}${randomString(B32, 8)}`;

export function accountOfKeyId(keyId: string): string | undefined {
  const m = KEY_ID_RE.exec(keyId);
  return m ? `acct_${m[1]}` : undefined;
}

/** `apg_<24 chars of key id>_<40 chars of secret, ~238 bits>`. */
export const newApiKey = (keyId: string): string => `apg_${keyId.slice(4)}_${randomString(B62, 40)}`;

/** The key id an API key claims to be, or undefined when the string is not an API key at all. */
export function parseApiKey(apiKey: string): { keyId: string; accountId: string } | undefined {
  if (apiKey.length !== 69 || !API_KEY_RE.test(apiKey)) return undefined;
  // apg_ <16 chars of the account id> <8 chars of key> _ <secret>: fixed offsets once the shape is checked.
  return { keyId: `key_${apiKey.slice(4, 28)}`, accountId: `acct_${apiKey.slice(4, 20)}` };
}

/** Keys are high-entropy, so one SHA-256 is the right hash (a slow KDF would only slow every call). */
export const hashSecret = (secret: string): Buffer => hash('sha256', secret, 'buffer') as unknown as Buffer;

/** Constant-time comparison of two secrets through their hashes (equal lengths always). */
export const sameSecret = (presented: string, storedHash: Uint8Array): boolean => storedHash.length === 32 && timingSafeEqual(hashSecret(presented), storedHash);
