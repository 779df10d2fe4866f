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
/** The shape of an API key (see newApiKey); hasKeyShape checks it without the regex. */
export const API_KEY_RE = /^apg_[a-z2-7]{24}_[A-Za-z0-9]{40}$/;

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

/** Bit 1: a base32 character (a-z, 2-7); bit 2: a base62 one (A-Z, a-z, 0-9). By char code, ASCII only. */
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  CHAR_CLASS[c] = (B32.includes(ch) ? 1 : 0) | (B62.includes(ch) ? 2 : 0);
}

/**
 * Whether `k` has the shape of API_KEY_RE, checked by char code: the same answer in about half the time
 * of the regex, and every metered call checks it twice (the credential, then the charge's key check).
 */
function hasKeyShape(k: string): boolean {
  if (k.length !== 69 || !k.startsWith('apg_') || k.charCodeAt(28) !== 95) return false;
  for (let i = 4; i < 28; i++) if ((CHAR_CLASS[k.charCodeAt(i)]! & 1) === 0) return false; // code >= 128: undefined & 1 === 0
  for (let i = 29; i < 69; i++) if ((CHAR_CLASS[k.charCodeAt(i)]! & 2) === 0) return false;
  return true;
}

/** The key id an API key claims to be, or undefined when the string is not an API key at all. */
export function parseApiKey(apiKey: string): { keyId: string; accountId: string } | undefined {
  if (!hasKeyShape(apiKey)) return undefined;
  // apg_ <16 chars of the account id> <8 chars of key> _ <secret>: fixed offsets once the shape is checked.
  return { keyId: `key_${apiKey.slice(4, 28)}`, accountId: `acct_${apiKey.slice(4, 20)}` };
}

/** Keys are high-entropy, so one SHA-256 is the right hash (a slow KDF would only slow every call). */
export const hashSecret = (secret: string): Buffer => hash('sha256', secret, 'buffer') as unknown as Buffer;

/** Constant-time comparison of two secrets through their hashes (equal lengths always). */
export const sameSecret = (presented: string, storedHash: Uint8Array): boolean => storedHash.length === 32 && timingSafeEqual(hashSecret(presented), storedHash);
