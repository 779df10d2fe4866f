// Hostile values (NUL, lone surrogates, deep nesting, huge numbers, prototype keys) and raw-body mutations.
import fc from 'fast-check';

/**
 * JSON cannot hold some of these as values of a JS object (1e400, 20,000 levels of nesting), so they are
 * placeholders, expanded in the serialized text: the JSON string `"$$N:<text>$$"` becomes `<text>` and
 * `"$$DEEP:<kind>:<n>$$"` becomes n nested arrays or objects.
 */
export const HOSTILE = {
  strings: [
    '\u0000', 'a\u0000b', '\ud800', 'x\udfff', 'tail\ud83d', '\u202e\u200b', '\u0085\u2028', '\u001b[31m', 'é'.repeat(200), 'k'.repeat(257),
    ' ', '', '../../etc/passwd', '%00', '%ZZ', '\\u0000', '"', '{"', '\r\n', 'x'.repeat(300_000),
  ],
  numbers: [
    '$$N:1e400$$', '$$N:-1e400$$', `$$N:1${'0'.repeat(400)}$$`, '$$N:1e-400$$', '$$N:-0$$', '$$N:123456789012345678901234567890$$', '$$N:1E3$$',
    2 ** 53 + 1, Number.MAX_VALUE, Number.MIN_VALUE, -1, 1.5, 0, 1e21,
  ],
  deep: ['$$DEEP:array:65$$', '$$DEEP:object:65$$', '$$DEEP:array:1000$$', '$$DEEP:object:20000$$', '$$DEEP:array:100000$$'],
  prototypes: [
    JSON.parse('{"__proto__":{"isAdmin":true,"status":"success"}}'), JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
    { toString: 'x', valueOf: 1, hasOwnProperty: null }, JSON.parse('{"__proto__":null}'),
  ],
  specials: [null, true, [], {}, [[[]]], 'string'],
  /** Member names added beside a body's own. */
  names: ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'user_id ', 'USER_ID', '\u0000', '\ud800'],
};

/** A hostile string: NUL and lone surrogates first (what a store may refuse), then the rest. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', 'tail\ud83d') },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE.strings) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) },
);

/** A hostile number, as a placeholder when JSON cannot hold it (see HOSTILE). */
export const hostileNumber: fc.Arbitrary<unknown> = fc.constantFrom(...HOSTILE.numbers);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE.strings),
  fc.constantFrom(...HOSTILE.numbers),
  fc.constantFrom(...HOSTILE.deep),
  fc.constantFrom(...HOSTILE.prototypes),
  fc.constantFrom(...HOSTILE.specials),
  fc.string({ maxLength: 8, unit: 'binary' }),
);

function deep(kind: string, n: number): string {
  return kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
}

/** Expands the placeholders of serialized JSON (see HOSTILE). */
export function expandPlaceholders(text: string): string {
  return text
    .replace(/"\$\$N:([^"$]*)\$\$"/g, (_, raw: string) => raw)
    .replace(/"\$\$DEEP:(array|object):(\d+)\$\$"/g, (_, kind: string, n: string) => deep(kind, Number(n)));
}

/** How the serialized body is damaged before it is sent. */
export const RAW_MODES = ['as-is', 'truncated', 'trailing', 'bom', 'invalid-utf8', 'cesu-surrogate', 'empty', 'deep', 'dup-keys', 'not-object', 'form', 'nul-bytes'] as const;
export type RawMode = (typeof RAW_MODES)[number];

export const rawMode: fc.Arbitrary<RawMode> = fc.oneof({ weight: 40, arbitrary: fc.constant('as-is' as const) }, fc.constantFrom(...RAW_MODES));

/** The bytes of `text` damaged by `mode`; `pick` (any integer) chooses among the variants of a mode. */
export function rawBody(text: string, mode: RawMode, pick: number): Buffer {
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  switch (mode) {
    case 'as-is':
      return utf8(text);
    case 'truncated':
      return utf8(text.slice(0, Math.floor(text.length / 2)));
    case 'trailing':
      return utf8(`${text} x`);
    case 'bom':
      return utf8(`\ufeff${text}`);
    case 'invalid-utf8':
      return Buffer.concat([utf8(text.slice(0, -1)), Buffer.from([0xff, 0xc0, 0x80]), utf8(text.slice(-1))]);
    case 'cesu-surrogate': {
      // "\ud800" as raw bytes inside a string (CESU-8), not as an escape: not UTF-8.
      const at = text.indexOf('"');
      return at < 0 ? Buffer.from([0xed, 0xa0, 0x80]) : Buffer.concat([utf8(text.slice(0, at + 1)), Buffer.from([0xed, 0xa0, 0x80]), utf8(text.slice(at + 1))]);
    }
    case 'empty':
      return Buffer.alloc(0);
    case 'deep':
      return utf8(deep(pick % 2 ? 'array' : 'object', [65, 1000, 100_000][pick % 3]!));
    case 'dup-keys':
      return utf8(text.startsWith('{') && text.length > 2 ? `${text.slice(0, -1)},"user_id":"u2","key":"\\u0000"}` : text);
    case 'not-object':
      return utf8(['null', '"str"', '1', 'true', '[]', '[{"user_id":"u1"}]'][pick % 6]!);
    case 'form':
      return utf8('user_id=u1&key=k1&data=1');
    case 'nul-bytes':
      return Buffer.concat([utf8(text), Buffer.from([0, 0])]);
  }
}
