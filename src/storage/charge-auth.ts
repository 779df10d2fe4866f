// The API-key check `charge` runs inside its own atomic operation (ChargeAuth), written once for the stores that run it in JS.
import { timingSafeEqual } from 'node:crypto';
import type { ChargeAuth, Millis } from './contract.js';

/** Length of `ChargeAuth.hash` (SHA-256); a hash of any other length never matches. */
export const AUTH_HASH_BYTES = 32;

/**
 * Whether a record's tag admits `auth`: equal to `auth.tag`, or, when `auth.scope` is given, `auth.tag`
 * followed by ';' and a comma-separated list naming `auth.scope` (a scoped API key: 'active;claude,payments').
 */
export function tagAdmits(tag: string, auth: ChargeAuth): boolean {
  if (tag === auth.tag) return true;
  const { scope } = auth;
  const n = auth.tag.length;
  if (!scope || tag.length <= n + 1 || tag.charCodeAt(n) !== 59 /* ';' */ || !tag.startsWith(auth.tag)) return false;
  return tag.slice(n + 1).split(',').includes(scope);
}

/**
 * Whether `record` proves the caller: live at `now`, its tag admitting `auth` (tagAdmits), value starting with `auth.hash`.
 *
 * Why the Redis and Postgres stores may compare the digests with a plain early-exit `==` (Lua, SQL):
 * the caller picks the presented key, never its digest. Timing can at best tell them how many
 * leading bytes of SHA-256(guess) equal the stored digest; turning that into more matching bytes
 * means finding preimages with a chosen digest prefix, which SHA-256 makes as hard as guessing the
 * key itself. Here in JS a constant-time compare costs nothing, so it is used anyway.
 */
export function authMatches(
  record: { tag: string; expiresAt: Millis | null; value: Uint8Array } | null,
  auth: ChargeAuth,
  now: Millis,
): boolean {
  if (!record || !tagAdmits(record.tag, auth) || (record.expiresAt !== null && record.expiresAt <= now)) return false;
  if (auth.hash.length !== AUTH_HASH_BYTES || record.value.length < AUTH_HASH_BYTES) return false;
  return timingSafeEqual(record.value.subarray(0, AUTH_HASH_BYTES), auth.hash);
}
