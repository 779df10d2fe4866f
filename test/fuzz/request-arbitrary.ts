// The operations of the served /openapi.json, and an arbitrary of hostile-but-plausible requests to each.
import fc from 'fast-check';
import type { AuthKind, Route } from '../../src/http/route.js';
import { hostileValue, rawMode, type RawMode } from './hostile.js';
import { MEMORY_TOOL_INPUT, mutate, mutation, valueOf, type Mutation, type Resolve } from './schema-arbitrary.js';

type Schema = Record<string, any>;

/** One documented operation, as /openapi.json describes it (auth from the live route table). */
export interface Operation {
  method: string;
  /** The route's path, ":name" for parameters. */
  path: string;
  auth: AuthKind;
  pathParams: string[];
  query: Array<{ name: string; required: boolean; schema: Schema }>;
  headers: string[];
  body: Schema | undefined;
  /** NDJSON body (its lines are documented in words only: derived from the store body). */
  ndjson: boolean;
  /** Errors rendered in Anthropic's shape (the route documents another error body). */
  anthropicErrors: boolean;
  /** Statuses the document lists for it. */
  statuses: Set<number>;
}

/** The operations of `doc`; `routes` (the instance's table) says who may call each. */
export function operationsOf(doc: Schema, routes: readonly Route[]): { operations: Operation[]; resolve: Resolve } {
  const resolve: Resolve = (ref) => ref.replace(/^#\//, '').split('/').reduce((o: Schema, k) => o[k], doc);
  const operations: Operation[] = [];
  for (const [oaPath, item] of Object.entries<Schema>(doc.paths)) {
    for (const [method, op] of Object.entries<Schema>(item)) {
      const path = oaPath.replace(/\{([^}]+)\}/g, ':$1');
      const route = routes.find((r) => r.path === path && r.method === method.toUpperCase());
      if (!route) throw new Error(`/openapi.json documents ${method} ${oaPath}, which ai.routes does not serve`);
      const params = ((op.parameters ?? []) as Schema[]).map((p) => (p.$ref ? resolve(p.$ref) : p));
      const bodyRef = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(), path, auth: route.auth,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: !!p.required, schema: p.schema ?? {} })),
        headers: params.filter((p) => p.in === 'header').map((p) => String(p.name).toLowerCase()),
        body: bodyRef && resolve(bodyRef.$ref),
        ndjson: path === '/memory/import',
        anthropicErrors: route.errorBody !== undefined,
        statuses: new Set(Object.keys(op.responses ?? {}).map(Number)),
      });
    }
  }
  return { operations, resolve };
}

export type Credential = 'right' | 'none' | 'empty-bearer' | 'unknown-key' | 'basic' | 'wrong-kind' | 'revoked' | 'broke' | 'x-api-key' | 'lowercase-scheme';
export type Upstream = { kind: 'ok' } | { kind: 'tool'; input: unknown } | { kind: 'error-echoing-secret' };

/** A request, before the values of earlier answers (`$$NAME$$`) are filled in. */
export interface FuzzCase {
  op: number;
  params: string[];
  query: Array<[string, unknown]>;
  /** How the query is encoded, whether a parameter is repeated, and junk appended. */
  queryStyle: { encoding: 'standard' | 'plus' | 'raw' | 'upper'; repeat: number | null; junk: string | null };
  credential: Credential;
  headers: Array<[string, string]>;
  body: { value?: unknown; lines?: string[]; raw: RawMode; pick: number; contentType: string | null; chunked: boolean } | null;
  upstream: Upstream;
}

const CREDENTIALS = fc.oneof(
  { weight: 30, arbitrary: fc.constant('right' as const) },
  fc.constantFrom<Credential>('none', 'empty-bearer', 'unknown-key', 'basic', 'wrong-kind', 'revoked', 'broke', 'x-api-key', 'lowercase-scheme'),
);

/** One of `valid` three times in four, else one of `invalid`. */
const mostly = <T>(valid: T[], invalid: T[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });

/** Header values by name; every value is one Node's client can send (latin-1, no CR/LF/NUL). */
/** Values for a header a route documents that has no values of its own below. */
const OTHER_HEADER_VALUE = fc.constantFrom('', 'x', '%00', '%FF', 'x'.repeat(300));
const HEADER_VALUES: Record<string, fc.Arbitrary<string>> = {
  'if-match': mostly(['"$$ETAG$$"', '*', 'W/"$$ETAG$$"', '"a", "$$ETAG$$"'], ['$$ETAG$$', '"', '', 'x'.repeat(9000), '"\xff"', '*, "x"']),
  'if-none-match': mostly(['"$$ETAG$$"', '*', '"nope"'], ['W/"x"', ',,,', '']),
  'idempotency-key': fc.oneof(
    { weight: 3, arbitrary: fc.oneof(fc.constantFrom('$$IDEM$$', 'fixed-1'), fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }).filter((k) => /^[\x21-\x7e]+$/.test(k))) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'k'.repeat(256), '\xe9t\xe9') },
  ),
  'payment-signature': fc.constantFrom('', 'abc', Buffer.from('{}').toString('base64'), Buffer.from('{"x402Version":2,"payload":{"signature":"0x"}}').toString('base64'), '!!!'),
  'anthropic-beta': fc.constantFrom('tools-2024-04-04', '', 'a,b'),
  'anthropic-version': fc.constantFrom('2023-06-01', '', '1999-01-01', '\u00ff'),
  'x-aipaygent-memory-query': mostly(['auto', 'fastapi', 'a%20phrase'], ['', '%00', '%ED%A0%80', '!!!', '%FF']),
  'x-aipaygent-user': mostly(['u1', 'alice'], ['', '%00', 'x'.repeat(300)]),
  'mcp-protocol-version': fc.constantFrom('2025-06-18', '2025-03-26', '', '1900-01-01'),
  'x-aipaygent-memory-user': mostly(['u1', 'u%20two'], ['%ZZ', '%00', '', '%ED%A0%80']),
  'x-aipaygent-memory-keys': mostly(['k1,k2', 'k1'], ['', ',,,', '%E0%A4%A', 'k1,%00']),
  'x-aipaygent-memory-prefix': mostly(['', 'k'], ['%00', '%ED%A0%80', '%FF']),
  'x-aipaygent-memory-max-tokens': mostly(['1', '100'], ['0', '-5', 'abc', '1e3', '99999999999']),
};
const ANY_HEADER = fc.constantFrom(...Object.keys(HEADER_VALUES));

const CONTENT_TYPES = fc.oneof(
  { weight: 40, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'text/plain',
    'application/x-ndjson', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/vnd.api+json', ';;;', null,
  ),
);
const NDJSON_TYPES = fc.oneof({ weight: 6, arbitrary: fc.constant('application/x-ndjson') }, fc.constantFrom('application/jsonl; charset=utf-8', 'application/json', 'text/plain', null));

/** Junk appended to a query string: empty pairs, prototype names, broken or non-UTF-8 percent escapes. */
const QUERY_JUNK = fc.constantFrom('&', '&&', '=x', '&__proto__=1', '&constructor=x&toString=y', '&%ZZ=1', '&user_id%00=1', '&x=%C3%28', '&x=%ED%A0%80', '&%FF=%FE', '&;=;', '#frag');

/** `arb` one time in six, else null. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

const mutations: fc.Arbitrary<Mutation[]> = fc.oneof({ weight: 1, arbitrary: fc.constant([] as Mutation[]) }, fc.array(mutation, { minLength: 1, maxLength: 2 }));

function queryOf(op: Operation, resolve: Resolve): fc.Arbitrary<Array<[string, unknown]>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const q of op.query) model[q.name] = valueOf(q.schema, resolve, 0, q.name);
  const required = op.query.filter((q) => q.required).map((q) => q.name);
  return fc.tuple(fc.record(model, { requiredKeys: required }), mutations).map(([value, ms]) => {
    const mutated = mutate(value, ms);
    return mutated !== null && typeof mutated === 'object' && !Array.isArray(mutated) ? Object.entries(mutated) : [['q', mutated]];
  });
}

/** NDJSON lines: what the store body holds for one memory (minus user_id, plus expires_at), mutated, and junk lines. */
function linesOf(storeBody: Schema, resolve: Resolve): fc.Arbitrary<string[]> {
  const props = { ...storeBody.properties, expires_at: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] } };
  delete props.user_id;
  const line = fc.tuple(valueOf({ ...storeBody, properties: props, required: ['key', 'data'] }, resolve), mutations).map(([v, ms]) => JSON.stringify(mutate(v, ms)));
  const junk = fc.constantFrom('', 'not json', '{', '\u0000', '[]', '{"key":"k1"}', `{"key":"k1","data":${'['.repeat(70)}${']'.repeat(70)}}`, '{"key":"k1","data":"$$N:1e400$$"}');
  return fc.array(fc.oneof({ weight: 4, arbitrary: line }, junk), { maxLength: 4 });
}

function bodyOf(op: Operation, resolve: Resolve, storeBody: Schema): fc.Arbitrary<FuzzCase['body']> {
  const common = { raw: rawMode, pick: fc.nat(), chunked: fc.boolean() };
  if (op.ndjson) return fc.record({ lines: linesOf(storeBody, resolve), contentType: NDJSON_TYPES, raw: fc.constant('as-is' as const), pick: fc.nat(), chunked: fc.boolean() });
  if (op.body) return fc.record({ value: fc.tuple(valueOf(op.body, resolve), mutations).map(([v, ms]) => mutate(v, ms)), contentType: CONTENT_TYPES, ...common });
  // A body where none is expected (a GET with a body, a DELETE with JSON) is sent now and then.
  return rarely(fc.record({ value: hostileValue, contentType: CONTENT_TYPES, ...common }));
}

function caseOf(op: Operation, index: number, resolve: Resolve, storeBody: Schema): fc.Arbitrary<FuzzCase> {
  const headerNames = fc.uniqueArray(fc.oneof({ weight: 3, arbitrary: op.headers.length ? fc.constantFrom(...op.headers) : ANY_HEADER }, ANY_HEADER), { maxLength: 3 });
  return fc.record({
    op: fc.constant(index),
    params: fc.tuple(...op.pathParams.map((name) => valueOf({ type: 'string', minLength: 1 }, resolve, 0, name).map(String))),
    query: queryOf(op, resolve),
    queryStyle: fc.record({
      encoding: fc.oneof({ weight: 4, arbitrary: fc.constant('standard' as const) }, fc.constantFrom('plus' as const, 'raw' as const, 'upper' as const)),
      repeat: rarely(fc.nat()),
      junk: rarely(QUERY_JUNK),
    }),
    credential: CREDENTIALS,
    // A header a route documents without values of its own here gets hostile text.
    headers: headerNames.chain((names) => fc.tuple(...names.map((n) => (HEADER_VALUES[n] ?? OTHER_HEADER_VALUE).map((v): [string, string] => [n, v])))),
    body: bodyOf(op, resolve, storeBody),
    upstream: op.path.startsWith('/claude') || op.path.startsWith('/v1/')
      ? fc.oneof(
        { weight: 1, arbitrary: fc.constant({ kind: 'ok' as const }) },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('tool' as const), input: fc.tuple(MEMORY_TOOL_INPUT, mutations).map(([v, ms]) => mutate(v, ms)) }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'error-echoing-secret' as const }) },
      )
      : fc.constant({ kind: 'ok' as const }),
  });
}

/** Requests to every operation, chosen uniformly. */
export function fuzzCases(operations: Operation[], resolve: Resolve): fc.Arbitrary<FuzzCase> {
  const storeBody = operations.find((o) => o.path === '/memory/store')!.body!;
  const perOp = operations.map((op, i) => caseOf(op, i, resolve, storeBody));
  return fc.oneof(...perOp);
}
