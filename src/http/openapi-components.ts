// Reusable OpenAPI parts: security schemes, header components, one error response per code, the API description.
import { STATUS_OF, type ErrorCode } from '../errors.js';
import { HEADER_DOCS, type DocHeader } from './openapi-headers.js';

type Json = Record<string, unknown>;

/** What the document says about the server it describes (read from the live configuration). */
export interface DocFacts {
  version: string;
  freeCallsPerDay: number;
  /** micro-USD per call of each `metered: true` route, by path. */
  pricing: Readonly<Record<string, number>>;
  rateLimited: boolean;
  x402: boolean;
}

export const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http', scheme: 'bearer', bearerFormat: 'apg_…',
    description: 'An API key: `Authorization: Bearer <api key>`. Keys are created by the operator (POST /admin/keys) and shown once.',
  },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same API key in `x-api-key` (as the Anthropic SDKs send it).' },
  adminToken: { type: 'http', scheme: 'bearer', description: "The operator's admin token: `Authorization: Bearer <admin token>`." },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'The metrics token (`metricsToken` option), for a scraper that must not hold the admin token.' },
} as const;

/** `security` of an operation by its auth kind: either key header works; admin needs the admin token. */
export const SECURITY_OF = {
  key: [{ apiKey: [] }, { apiKeyHeader: [] }],
  admin: [{ adminToken: [] }],
  metrics: [{ metricsToken: [] }, { adminToken: [] }],
  none: [],
} as const;

const headerSchema = (h: DocHeader) => ('integer' in HEADER_DOCS[h] ? { type: 'integer' } : { type: 'string' });

/** components.headers (response headers) and components.parameters (request headers), keyed by our names. */
export function headerComponents(): { headers: Json; parameters: Json } {
  const headers: Json = {};
  const parameters: Json = {};
  for (const [key, h] of Object.entries(HEADER_DOCS) as Array<[DocHeader, (typeof HEADER_DOCS)[DocHeader]]>) {
    if (h.in === 'response') headers[h.name] = { description: h.description, schema: headerSchema(key) };
    else parameters[h.name] = { name: h.name, in: 'header', required: false, description: h.description, schema: headerSchema(key) };
  }
  return { headers, parameters };
}

export const headerRef = (h: DocHeader) => ({ $ref: `#/components/headers/${HEADER_DOCS[h].name}` });
export const parameterRef = (h: DocHeader) => ({ $ref: `#/components/parameters/${HEADER_DOCS[h].name}` });

const WHEN: Record<ErrorCode, string> = {
  invalid_request: 'Malformed JSON, or a missing or wrong field: the message names it',
  unauthorized: 'Missing, malformed, unknown or revoked API key; wrong admin token',
  payment_required: 'No free call left today and the balance cannot cover the call: `payment` says what it costs and how to buy',
  forbidden: 'Not allowed for this account',
  not_found: 'No such resource',
  method_not_allowed: 'Known path, wrong method (`Allow` lists the right ones)',
  conflict: 'Conflicts with the current state (e.g. an Idempotency-Key still in flight or reused with another body)',
  precondition_failed: 'If-Match does not match the current ETag',
  request_timeout: 'The request body did not arrive within `limits.bodyTimeoutMs` (the connection is closed)',
  payload_too_large: 'Body or value above the configured limit',
  unsupported_media_type: 'The body is not JSON',
  rate_limited: 'Per-key rate limit exceeded: retry after `Retry-After` seconds',
  internal: 'A fault on our side (masked: no details)',
  upstream_error: 'Claude failed or is unreachable',
  store_unavailable: 'The store failed or timed out: nothing was served or charged',
  server_busy: 'Too many request bodies being read at once (`limits.maxBodyBytesInFlight`): nothing was read or charged; retry after `Retry-After`',
  upstream_timeout: 'Claude did not answer in time',
};

/** Response headers each error code carries. */
const ERROR_HEADERS: Partial<Record<ErrorCode, DocHeader[]>> = {
  unauthorized: ['www-authenticate'],
  payment_required: ['ratelimit', 'ratelimit-policy', 'x-credits-balance-micro-usd'],
  rate_limited: ['retry-after', 'ratelimit', 'ratelimit-policy'],
  server_busy: ['retry-after'],
};

/** One description of an error status, for a body schema given by `$ref`. */
export function errorResponse(code: ErrorCode, schemaRef: string): Json {
  const headers = Object.fromEntries((ERROR_HEADERS[code] ?? []).map((h) => [HEADER_DOCS[h].name, headerRef(h)]));
  return {
    description: `\`${code}\`: ${WHEN[code]}.`,
    ...(Object.keys(headers).length && { headers }),
    content: { 'application/json': { schema: { $ref: schemaRef } } },
  };
}

/** components.responses: one per error code, in the one error shape (402 with its `payment` object, and x402's headers when on). */
export function errorResponses(f: DocFacts): Json {
  const out: Json = {};
  for (const code of Object.keys(STATUS_OF) as ErrorCode[]) {
    out[code] = errorResponse(code, `#/components/schemas/${code === 'payment_required' ? 'PaymentRequiredError' : 'Error'}`);
  }
  if (f.x402) {
    const paid = out.payment_required as { description: string; headers: Json };
    paid.description += ' With x402 on, a fixed-price call also offers PAYMENT-REQUIRED: pay it and retry with PAYMENT-SIGNATURE.';
    for (const h of ['payment-required', 'payment-response'] as const) paid.headers[HEADER_DOCS[h].name] = headerRef(h);
  }
  return out;
}

/** The API description shown at the top of the docs page. */
export function apiDescription(f: DocFacts): string {
  const codes = Object.entries(STATUS_OF).map(([code, status]) => `| \`${code}\` | ${status} | ${WHEN[code as ErrorCode]} |`).join('\n');
  return [
    'Persistent per-user JSON memory for AI agents, with a free daily quota, prepaid credits and a billed Claude proxy.',
    '',
    '**Paths** are relative to where the API is mounted (see Servers). **Auth**: `Authorization: Bearer <api key>` (or `x-api-key`); admin routes take `Authorization: Bearer <admin token>`.',
    '',
    `**Free tier**: ${f.freeCallsPerDay} metered calls per API account per UTC day, then each metered call is debited from the prepaid balance (402 \`payment_required\` when it cannot pay). ` +
      'Metered answers carry `RateLimit`, `RateLimit-Policy` and `X-Credits-Balance-Micro-USD`. Money is integer micro-USD (1 USD = 1000000) everywhere.',
    '',
    f.x402 ? 'Payments: USDC on-chain purchases (POST /buy-credits), and x402 top-ups (PAYMENT-REQUIRED / PAYMENT-SIGNATURE / PAYMENT-RESPONSE).' : '',
    '',
    'Every error has one shape: `{"status":"error","error":{"code":"…","message":"…"}}` (402 adds `payment`).',
    '',
    '| code | status | when |',
    '|---|---|---|',
    codes,
  ].join('\n');
}
