// Turns the JSON Schemas of the served /openapi.json into fast-check arbitraries of valid-ish values, then mutates them.
import fc from 'fast-check';
import { HOSTILE, hostileNumber, hostileString, hostileValue } from './hostile.js';

type Schema = Record<string, any>;
export type Resolve = (ref: string) => Schema;

/**
 * Values the schema cannot say (a model the server prices, an id that exists, a JSON Pointer): most
 * draws come from here so that requests get past validation and reach the handlers; `$$NAME$$` strings
 * are filled in when sent, from what earlier answers returned (see fixture.ts).
 */
const MODEL = 'claude-3-5-sonnet-20241022';

/** One of `valid` three times in four, else one of `invalid`: most requests get past validation, some test it. */
const mostly = (valid: unknown[], invalid: unknown[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });

const pointer = mostly(['', '/messages', '/a/b', '/0', '/-', '/a~1b'], ['/~2', 'no-slash', '/a'.repeat(5000)]);
const message = fc.record({ role: mostly(['user', 'assistant'], ['system', 'x']), content: fc.oneof(fc.string({ maxLength: 20 }), fc.constant([{ type: 'text', text: 'hi' }])) });
export const MEMORY_TOOL_INPUT = fc.record(
  {
    command: mostly(['view', 'create', 'str_replace', 'insert', 'delete', 'rename'], ['nope']),
    path: mostly(['/memories', '/memories/notes.md', '/memories/a/b.txt'], ['/etc/passwd', '/memories/../x', '/memories/\u0000']),
    file_text: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('line\n'.repeat(50))),
    old_str: fc.constantFrom('line', 'a', '', '\u0000'),
    new_str: fc.string({ maxLength: 10 }),
    insert_line: mostly([0, 1], [-1, 1e9, 2.5]),
    insert_text: fc.string({ maxLength: 10 }),
    new_path: mostly(['/memories/new.md'], ['/memories', '/x']),
    view_range: mostly([[1, 2]], [[0, -1], [5, 1], 'x']),
  },
  { requiredKeys: ['command'] },
);

const HINTS: Record<string, fc.Arbitrary<unknown>> = {
  user_id: fc.constantFrom('u1', 'u2', 'agent 7', 'ü'),
  key: fc.constantFrom('k1', 'k2', 'notes/today', 'a.b'),
  prefix: fc.constantFrom('', 'k', 'notes/', 'zz'),
  cursor: mostly(['$$CURSOR$$', '$$LEDGER_CURSOR$$', 'eyJhZnRlciI6ImsxIn0', 'eyJiZWZvcmUiOjF9'], ['garbage', 'eyJhZnRlciI6MX0']),
  limit: mostly(['1', '2', '100'], ['0', '1001', '-1', 'abc']),
  refresh_on_read: mostly(['true', 'false', '1', '0'], ['yes']),
  skip_existing: mostly(['true', 'false', '1'], ['TRUE']),
  include_data: mostly(['true', 'false', '1', '0'], ['no']),
  model: mostly([MODEL, 'claude-haiku-4-5'], ['claude-nope', '__proto__']),
  messages: fc.array(message, { minLength: 1, maxLength: 3 }),
  max_tokens: fc.integer({ min: 1, max: 64 }),
  path: pointer,
  from: pointer,
  items: fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 3 }),
  max_items: mostly([1, 2, 1000], [0]),
  account_id: mostly(['$$ACCOUNT$$'], ['acct_nope', 'acct_']),
  amount_micro_usd: fc.integer({ min: 1, max: 1000 }),
  reason: fc.constantFrom('fuzz', 'refund for a bug'),
  reference: fc.string({ minLength: 1, maxLength: 12 }),
  label: fc.string({ maxLength: 12 }),
  version: mostly(['$$N:VERSION$$', 1, 2], [0]),
  ttl_days: mostly([1, 0.5, 30, 365], [0, 1e6]),
  tx_hash: mostly([`0x${'ab'.repeat(32)}`, `0x${'AB'.repeat(32)}`], ['0x12', 'not-a-hash']),
  address: mostly([`0x${'11'.repeat(20)}`, `0x${'ab'.repeat(20)}`], ['0x1234', 'vitalik.eth']),
  signature: mostly([`0x${'11'.repeat(65)}`], ['0x', 'sig']),
  key_id: mostly(['$$KEY_ID$$', 'key_nope'], ['x', '%ZZ']),
  asset: mostly(['docs.js', 'swagger-ui.css', 'favicon-32x32.png'], ['nope.js', '..%2F..%2Fpackage.json', '%00', '%ZZ']),
  // Claude's loose body: what the memory layer reads beside Anthropic's own fields.
  memory: fc.record(
    { user_id: mostly(['u1', 'u2'], ['']), keys: fc.array(fc.constantFrom('k1', 'k2', 'nope'), { maxLength: 3 }), prefix: fc.constantFrom('', 'k', 'notes/'), max_tokens: mostly([1, 100], [0]) },
    { requiredKeys: ['user_id'] },
  ),
  tools: mostly([[{ type: 'memory_20250818', name: 'memory' }], [{ type: 'memory_20250818', name: 'memory' }, { name: 'other', input_schema: { type: 'object' } }]], [[{ name: 'other', input_schema: { type: 'object' } }], 'memory']),
  system: fc.oneof(fc.string({ maxLength: 20 }), fc.constant([{ type: 'text', text: 'be brief' }])),
  data: fc.jsonValue({ maxDepth: 3 }),
  patch: fc.jsonValue({ maxDepth: 3 }),
  value: fc.jsonValue({ maxDepth: 2 }),
};

const HINTS_TOOL = [{ type: 'memory_20250818', name: 'memory' }];

/** Extra members tried on objects whose schema allows any (Claude's body). */
const EXTRA_MEMBERS = ['memory', 'tools', 'system'];

/** A string of the schema's constraints (a short one from a small alphabet, or any code points). */
function stringOf(s: Schema): fc.Arbitrary<string> {
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
  if (s.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 24, minLength + 24);
  return fc.oneof({ weight: 3, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme-ascii' }) }, fc.string({ minLength, maxLength, unit: 'binary' }));
}

function numberOf(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : -1e6);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : 1e6);
  if (integer) return fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

function objectOf(s: Schema, resolve: Resolve, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, sub] of Object.entries<Schema>(s.properties ?? {})) props[name] = valueOf(sub, resolve, depth + 1, name);
  const required = (s.required ?? []).filter((k: string) => k in props);
  // Claude's body: `memory` and `tools` most of the time, so that the memory layer is what gets fuzzed.
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const name of EXTRA_MEMBERS) props[name] ??= HINTS[name]!;
    return fc.tuple(fc.record(props, { requiredKeys: required }), fc.boolean()).map(([v, strip]) => (strip ? v : { memory: { user_id: 'u1' }, tools: HINTS_TOOL, ...v }));
  }
  return fc.record(props, { requiredKeys: required });
}

/** The generic arbitrary of a schema; `name` (a property or parameter name) picks a hint first. */
export function valueOf(schema: Schema | undefined, resolve: Resolve, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const own = fromSchema(schema ?? {}, resolve, depth);
  const hint = name === undefined ? undefined : HINTS[name];
  // Every text field is sometimes hostile text on its own (the other fields valid): what a store may refuse.
  const text = (schema?.$ref ? resolve(schema.$ref) : schema)?.type === 'string';
  return fc.oneof(
    ...(hint ? [{ weight: 6, arbitrary: hint }] : []),
    { weight: hint ? 1 : 6, arbitrary: own },
    ...(text ? [{ weight: 1, arbitrary: hostileString as fc.Arbitrary<unknown> }] : []),
  );
}

function fromSchema(schema: Schema, resolve: Resolve, depth: number): fc.Arbitrary<unknown> {
  const s = schema.$ref ? resolve(schema.$ref) : schema;
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((a: Schema) => fromSchema(a, resolve, depth)));
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t: string) => fromSchema({ ...s, type: t }, resolve, depth)));
  switch (s.type) {
    case 'object':
      return objectOf(s, resolve, depth);
    case 'array':
      return fc.array(depth > 4 ? fc.jsonValue({ maxDepth: 1 }) : fromSchema(s.items ?? {}, resolve, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, (s.minItems ?? 0) + 3) });
    case 'string':
      return stringOf(s);
    case 'integer':
      return numberOf(s, true);
    case 'number':
      return numberOf(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/**
 * One mutation of a generated value: a member replaced by a hostile value, removed, or a prototype key
 * added. A string or number is replaced by a hostile one of its own type two times in three, so that
 * the request stays plausible and reaches the checks (and the store) behind type validation.
 */
export type Mutation =
  | { kind: 'replace'; at: number; value: unknown; str: string; num: unknown; sameType: boolean; leaf: boolean }
  | { kind: 'drop'; at: number }
  | { kind: 'add'; name: string; value: unknown };

const twoInThree = fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, fc.constant(false));

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue, str: hostileString, num: hostileNumber, sameType: twoInThree, leaf: twoInThree }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom(...HOSTILE.names), value: hostileValue }) },
);

/** Every path to a member or item inside `v` ([] is the value itself), in a stable order. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (out.length > 200 || v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) paths(child, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

/** A deep copy through JSON (own `__proto__` members survive it): generated values are shared between runs and must not change. */
const copy = (v: unknown): any => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** What replaces `current`: a hostile value of its own type when asked (and there is one), else any. */
function replacement(current: unknown, m: Extract<Mutation, { kind: 'replace' }>): unknown {
  if (m.sameType && typeof current === 'string') return m.str;
  if (m.sameType && typeof current === 'number') return copy(m.num);
  return copy(m.value);
}

/** `value` with the mutations applied (a copy). */
export function mutate(value: unknown, mutations: Mutation[]): unknown {
  let out: any = copy(value);
  for (const m of mutations) {
    if (m.kind === 'add') {
      if (out !== null && typeof out === 'object' && !Array.isArray(out)) out = JSON.parse(JSON.stringify(out).replace(/^\{/, `{${JSON.stringify(m.name)}:${JSON.stringify(m.value)}${Object.keys(out).length ? ',' : ''}`));
      continue;
    }
    const all = paths(out);
    // A replace aims at a string or a number two times in three (a field a door must check), else anywhere.
    const leaves = m.kind === 'replace' && m.leaf ? all.filter((p) => ['string', 'number'].includes(typeof p.reduce((o: any, k) => o?.[k], out))) : [];
    const pool = leaves.length ? leaves : all;
    const target = pool[m.at % pool.length]!;
    if (target.length === 0) {
      if (m.kind === 'replace') out = replacement(out, m);
      continue;
    }
    const parent = target.slice(0, -1).reduce((o, k) => o[k], out);
    const last = target[target.length - 1]!;
    if (m.kind === 'drop') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else Object.defineProperty(parent, last, { value: replacement(parent[last], m), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
