// OpenAPI 3.1 generated from the live route table: the zod schemas that validate requests document them too.
import { z } from 'zod';
import { STATUS_OF, type ErrorCode } from '../errors.js';
import {
  apiDescription, errorResponse, errorResponses, headerComponents, headerRef, parameterRef,
  SECURITY_OF, SECURITY_SCHEMES, type DocFacts,
} from './openapi-components.js';
import { HEADER_DOCS, type DocHeader } from './openapi-headers.js';
import * as S from './openapi-schemas.js';
import type { Route, RouteResponse } from './route.js';

type Json = Record<string, any>;
export type { DocFacts } from './openapi-components.js';

/** Body schemas shared by several routes, given names in components.schemas. */
const NAMED: Record<string, z.ZodType> = {
  Error: S.ErrorBody, PaymentRequiredError: S.PaymentRequiredBody, Payment: S.Payment, AnthropicError: S.AnthropicErrorBody,
  AnthropicMessage: S.AnthropicMessage, MemoryStored: S.MemoryStored, MemoryRetrieved: S.MemoryRetrieved, MemoryKey: S.MemoryKey,
  MemoryList: S.MemoryList, MemoryDeleted: S.MemoryDeleted, UserErased: S.UserErased, Balance: S.Balance, LedgerEntry: S.LedgerEntry,
  Ledger: S.Ledger, KeyCreated: S.KeyCreated, KeyRotated: S.KeyRotated, KeyRevoked: S.KeyRevoked, KeyInfo: S.KeyInfo, KeyList: S.KeyList,
  AccountSummary: S.AccountSummary, AccountList: S.AccountList, AccountDetail: S.AccountDetail, CreditsGranted: S.CreditsGranted, CreditsDuplicate: S.CreditsDuplicate,
};

const TAG_TEXT: Record<string, string> = {
  Memory: 'Per-user JSON memory with TTL, scoped to the account of the API key',
  Credits: 'Balance, free calls left today, and the ledger',
  Payments: 'Buy credits with USDC on-chain, or with x402',
  'Sign-up': 'Agents open their own account with a wallet signature (Sign-In with Ethereum) and get an API key',
  Claude: "Claude's Messages API, billed by tokens",
  MCP: 'The Model Context Protocol endpoint: the memory routes as tools for agents, each call billed as its route',
  Admin: 'Operator routes (admin token): accounts, API keys (scopes, expiry, rotation) and credit grants',
  Discovery: 'The catalogue, this document and the docs page',
  Operations: 'Health checks for load balancers and orchestrators, and Prometheus metrics',
};

/** Known groups first, in the order a newcomer needs them; any other in the order routes were added. */
const sortTags = (tags: string[]) => {
  const rank = (t: string) => (t in TAG_TEXT ? Object.keys(TAG_TEXT).indexOf(t) : Object.keys(TAG_TEXT).length);
  return [...tags].sort((a, b) => rank(a) - rank(b));
};

const METHODS_WITH_IDEMPOTENCY = new Set(['POST']);

/** "/admin/keys/:key_id" -> "/admin/keys/{key_id}" */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** "DELETE /admin/keys/:key_id" -> "deleteAdminKeysKeyId": stable, unique per method and path. */
export function operationId(route: Pick<Route, 'method' | 'path'>): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

const tagOf = (route: Route) => route.tags ?? [route.path.split('/')[1]!.replace(/^./, (c) => c.toUpperCase())];

/** The error statuses a route can answer: what the pipeline does to it, plus what its handler says. */
export function errorCodesOf(route: Route, facts: DocFacts, own: ErrorCode[] = []): ErrorCode[] {
  const codes = new Set<ErrorCode>(own);
  const idempotent = route.auth === 'key' && route.metered !== false && METHODS_WITH_IDEMPOTENCY.has(route.method);
  // A path parameter that is not percent-encoded UTF-8 is a 400 too (router.ts).
  if (route.query || route.body || idempotent || route.path.includes('/:')) codes.add('invalid_request');
  if (route.body) codes.add('payload_too_large').add('request_timeout');
  if (route.auth !== 'none') codes.add('unauthorized').add('store_unavailable');
  if (route.scope) codes.add('forbidden');
  if (route.metered) codes.add('payment_required');
  if (idempotent) codes.add('conflict');
  if (route.auth === 'key' && facts.rateLimited) codes.add('rate_limited');
  if (route.metered === 'tokens') codes.add('upstream_error').add('upstream_timeout');
  codes.add('internal');
  return [...codes].sort((a, b) => statusOf(a) - statusOf(b));
}

/** How a metered call is paid, in words, for its description. */
function billingNote(route: Route, facts: DocFacts): string | undefined {
  const free = facts.freeCallsPerDay > 0 ? `one of the ${facts.freeCallsPerDay} free calls of the day, else ` : '';
  if (route.metered === 'tokens') return `**Billed**: ${free}the tokens used, at the model's price (see GET /discover); the worst case is reserved first.`;
  const price = facts.pricing[route.path];
  if (route.metered && price !== undefined) return `**Billed**: ${free}${price} micro-USD (${(price / 1e6).toFixed(6)} USD) from the balance; 402 when it cannot pay.`;
  return undefined;
}

const statusOf = (code: ErrorCode) => STATUS_OF[code];

/** Builds the document (without `servers`, which depend on the request). */
export function buildOpenApi(routes: readonly Route[], facts: DocFacts): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED)) registry.add(schema, { id });
  const paths: Json = {};
  const tagOrder: string[] = [];
  const inline: Array<[Json, z.ZodType]> = [];

  for (const route of routes) {
    const id = operationId(route);
    const tags = tagOf(route);
    for (const t of tags) if (!tagOrder.includes(t)) tagOrder.push(t);
    const op: Json = { operationId: id, tags, summary: route.summary, security: SECURITY_OF[route.auth] };
    const price = billingNote(route, facts);
    const scope = route.scope && `**Scope**: \`${route.scope}\` (a key created with scopes must have it, else 403 \`forbidden\`).`;
    if (route.description || price || scope) op.description = [route.description, price, scope].filter(Boolean).join('\n\n');
    if (route.metered) op['x-metered'] = route.metered;
    if (route.scope) op['x-scope'] = route.scope;
    const parameters: Json[] = [];
    for (const m of route.path.matchAll(/:([A-Za-z0-9_]+)/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (route.query) inline.push([{ kind: 'query', parameters }, route.query]);
    const reads = new Set<DocHeader>(route.headers ?? []);
    if (route.auth === 'key' && route.metered && METHODS_WITH_IDEMPOTENCY.has(route.method)) reads.add('idempotency-key');
    if (facts.x402 && route.metered === true) reads.add('payment-signature');
    for (const h of reads) parameters.push(parameterRef(h));
    op.parameters = parameters;
    if (route.body) {
      const name = id[0]!.toUpperCase() + id.slice(1) + 'Body';
      if (!registry.has(route.body)) registry.add(route.body, { id: name });
      const optional = route.body.safeParse(undefined).success;
      op.requestBody = { required: !optional, content: { 'application/json': { schema: { $ref: `#/components/schemas/${registry.get(route.body)!.id}` } } } };
    }
    op.responses = responsesOf(route, facts, registry);
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = op;
  }

  const converted = z.toJSONSchema(registry, { ...CONVERT, uri: (id) => `#/components/schemas/${id}` }).schemas;
  for (const s of Object.values(converted)) tidy(s as Json);
  for (const [target, schema] of inline) queryParameters(target.parameters, schema);
  for (const p of Object.values(paths)) for (const op of Object.values(p as Json)) op.parameters = sortParameters(op.parameters);

  const { headers, parameters } = headerComponents();
  return {
    openapi: '3.1.1',
    info: { title: 'aipaygent', version: facts.version, description: apiDescription(facts), license: { name: 'MIT', identifier: 'MIT' } },
    tags: sortTags(tagOrder).map((name) => ({ name, ...(TAG_TEXT[name] && { description: TAG_TEXT[name] }) })),
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: converted, headers, parameters, responses: errorResponses(facts) },
  };
}

const CONVERT = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

function responsesOf(route: Route, facts: DocFacts, registry: z.core.$ZodRegistry<{ id: string }>): Json {
  const out: Json = {};
  const quota: DocHeader[] = route.metered ? ['ratelimit', 'ratelimit-policy', 'x-credits-balance-micro-usd'] : route.auth === 'key' && facts.rateLimited ? ['ratelimit', 'ratelimit-policy'] : [];
  // x402 pay-per-call: a fixed-price call paid by the request answers the settlement too.
  if (facts.x402 && route.metered === true) quota.push('payment-response');
  const own = route.responses ?? { 200: { description: 'Success', schema: z.looseObject({ status: z.literal('success') }) } };
  for (const [status, r] of Object.entries(own) as Array<[string, RouteResponse]>) {
    const isError = Number(status) >= 400;
    out[status] = describe(r, isError ? [] : quota, registry);
  }
  for (const code of errorCodesOf(route, facts, route.errors)) {
    const status = String(statusOf(code));
    if (out[status]) continue;
    if (route.errorBody) {
      if (!registry.has(route.errorBody)) registry.add(route.errorBody, { id: operationId(route)[0]!.toUpperCase() + operationId(route).slice(1) + 'Error' });
      out[status] = errorResponse(code, `#/components/schemas/${registry.get(route.errorBody)!.id}`);
    } else out[status] = { $ref: `#/components/responses/${code}` };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => Number(a) - Number(b)));
}

function describe(r: RouteResponse, extraHeaders: DocHeader[], registry: z.core.$ZodRegistry<{ id: string }>): Json {
  const content: Json = {};
  if (r.schema) {
    const named = registry.get(r.schema)?.id;
    content['application/json'] = { schema: named ? { $ref: `#/components/schemas/${named}` } : tidy(z.toJSONSchema(r.schema, CONVERT) as Json) };
  }
  for (const media of r.media ?? []) content[media] = { schema: { type: 'string' } };
  const names = [...new Set([...(r.headers ?? []), ...extraHeaders])];
  return {
    description: r.description,
    ...(names.length && { headers: Object.fromEntries(names.map((h) => [HEADER_DOCS[h].name, headerRef(h)])) }),
    ...(Object.keys(content).length && { content }),
  };
}

/** Query object schema -> one parameter per property (query values are strings on the wire). */
function queryParameters(parameters: Json[], schema: z.ZodType): void {
  const js = tidy(z.toJSONSchema(schema, CONVERT) as Json);
  const required = new Set<string>(js.required ?? []);
  for (const [name, prop] of Object.entries<Json>(js.properties ?? {})) {
    const { description, ...rest } = prop;
    parameters.push({ name, in: 'query', required: required.has(name), ...(description && { description }), schema: rest });
  }
}

const sortParameters = (ps: Json[]) => {
  const rank = (p: Json) => (p.in === 'path' ? 0 : p.in === 'query' ? 1 : 2);
  return [...ps].sort((a, b) => rank(a) - rank(b));
};

/** Drops what only adds noise in a component: `$schema`/`$id`, and zod's long regex beside `format: date-time`. */
export function tidy(schema: Json): Json {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const o = node as Json;
    delete o.$schema;
    delete o.$id;
    if (o.format === 'date-time') delete o.pattern;
    for (const v of Object.values(o)) walk(v);
  };
  walk(schema);
  return schema;
}
