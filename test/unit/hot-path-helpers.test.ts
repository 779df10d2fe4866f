// The hand-written fast paths of the request pipeline give exactly what the slow, obvious code gives.
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { queryObject } from '../../src/http/fields.js';
import fc from 'fast-check';
import { API_KEY_RE, parseApiKey } from '../../src/keys/api-key.js';
import { formatTag, parseTag, type TagInfo } from '../../src/memory/tag.js';
import { utcDay } from '../../src/time.js';

/** The bytes a query string's escapes stand for (a "%" that starts no escape is itself). */
function percentBytes(s: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-f]{2}$/i.test(s.slice(i + 1, i + 3))) {
      out.push(Buffer.from([parseInt(s.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else out.push(Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.concat(out);
}

/** What queryObject must equal: URLSearchParams, with a repeated parameter or escapes that are not UTF-8 refused. */
function reference(query: string): Record<string, string> | 'refused' {
  if (!isUtf8(percentBytes(query))) return 'refused';
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(query)) {
    if (k in out) return 'refused';
    out[k] = v;
  }
  return out;
}

function actual(query: string): Record<string, string> | 'refused' {
  try {
    return queryObject(query);
  } catch {
    return 'refused';
  }
}

describe('queryObject', () => {
  it('splits the article\'s query string', () => {
    expect(actual('user_id=dev_user_123&key=coding_preferences')).toEqual({ user_id: 'dev_user_123', key: 'coding_preferences' });
  });

  it('agrees with URLSearchParams on 50,000 random query strings', () => {
    const pieces = ['a', 'b', 'key', '=', '&', '&&', '==', '?', '#', ';', ' ', 'é', '%', '%2', '%41', '%zz', '+', '__proto__', 'constructor', '%C3', '%A9', '%E9', '%ED%A0%80', '%F0%9F%98%80'];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 50_000; i++) {
      let q = '';
      for (let n = Math.floor(random() * 9); n > 0; n--) q += pieces[Math.floor(random() * pieces.length)];
      expect(actual(q), JSON.stringify(q)).toEqual(reference(q));
    }
  });
});

describe('utcDay', () => {
  it('gives the UTC day and the next midnight, also across days and before 1970', () => {
    for (const iso of ['2026-11-24T00:00:00.000Z', '2026-11-24T23:59:59.999Z', '2024-02-29T12:00:00Z', '1969-12-31T23:00:00Z', '2026-11-24T10:00:00Z']) {
      const ms = Date.parse(iso);
      const day = new Date(ms).toISOString().slice(0, 10);
      expect(utcDay(ms)).toMatchObject({ day, endsAt: Date.parse(`${day}T00:00:00Z`) + 86_400_000 });
    }
  });
});

describe('parseTag', () => {
  it('reads back every tag formatTag writes', () => {
    const infos: TagInfo[] = [
      { etag: '"abc"', ttlMs: null },
      { etag: '"abc"', ttlMs: 31_536_000_000 },
      { etag: '"abc"', ttlMs: 1000, op: 'append', restoredFrom: undefined },
      { etag: '"abc"', ttlMs: null, op: 'restore', restoredFrom: 3 },
    ];
    for (const info of infos) expect(parseTag(formatTag(info))).toEqual(Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)));
  });
});

describe('parseApiKey', () => {
  it('takes the key id and account from fixed offsets, and only from a well-formed key', () => {
    const key = 'apg_abcdefghijklmnop2345ab67_' + 'A'.repeat(40);
    expect(parseApiKey(key)).toEqual({ keyId: 'key_abcdefghijklmnop2345ab67', accountId: 'acct_abcdefghijklmnop' });
    for (const bad of [key + 'A', key.slice(0, -1), key.replace('apg_', 'apx_'), key.replace('_A', '-A'), key.toUpperCase(), ''])
      expect(parseApiKey(bad)).toBeUndefined();
  });

  it('accepts exactly the strings API_KEY_RE accepts (its check goes by char code, not the regex)', () => {
    const near = 'apg_abcdefghijklmnop2345ab67_' + 'Az09'.repeat(10);
    // Strings near a key: one character replaced by any character (ASCII, Latin-1, astral), or cut, or lengthened.
    const mutated = fc.tuple(fc.nat(near.length), fc.oneof(fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }), fc.constantFrom('_', '1', '8', 'Z', '{', '`', '\u0100', '\u{1F600}')), fc.nat(2))
      .map(([at, ch, cut]) => near.slice(0, at) + ch + near.slice(at + (cut === 0 ? 0 : 1)));
    fc.assert(fc.property(fc.oneof(mutated, fc.string({ unit: 'binary', minLength: 69, maxLength: 69 })), (s) => {
      expect(parseApiKey(s) !== undefined).toBe(API_KEY_RE.test(s));
    }), { numRuns: 20_000 });
    expect(parseApiKey(near)).toBeDefined();
  });
});
