// Discovery routes (no auth, free): the catalogue of /discover and the OpenAPI document, both derived from the live routes and config.
import { WEBHOOK_EVENTS } from '../../observe/webhooks/config.js';
import { createRequire } from 'node:module';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { formatUsd } from '../../ledger/money.js';
import { buildOpenApi, type DocFacts } from '../openapi.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import type { CoreRequest } from '../types.js';
import { buyInstructions } from './payments.js';
import { signupInstructions } from './signup.js';

export interface DiscoveryDeps {
  /** The router's live table: read at request time, so every route registered at startup is listed. */
  routes: readonly Route[];
  config: Config;
  /** The MCP endpoint's tools, each with the route it runs (empty until `ready` made them; undefined: MCP is off). */
  mcpTools?: () => ReadonlyArray<{ name: string; title: string; route: Route }>;
}

/** The package version, through the package's own `exports["./package.json"]` (works from src, dist and node_modules). */
export const PACKAGE_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('aipaygent/package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

const base = (req: CoreRequest) => req.mountPath ?? '';

export function docFacts(config: Config): DocFacts {
  return { version: PACKAGE_VERSION, freeCallsPerDay: config.freeCallsPerDay, pricing: config.pricing, rateLimited: config.rateLimit !== undefined, x402: config.payments?.x402 !== undefined };
}

/** How a route is paid, for the catalogue. */
function billing(r: Route, pricing: Readonly<Record<string, number>>) {
  if (r.metered === 'tokens') return { metered: true, billing: 'tokens', price: 'by tokens (see claude.models)' };
  if (r.metered) return { metered: true, billing: 'per_call', price_micro_usd: pricing[r.path]!, price_usd: formatUsd(pricing[r.path]!) };
  return { metered: false, billing: 'free' };
}

function claudeSection(c: NonNullable<Config['claude']>) {
  const models = [...c.prices].filter(([id]) => !c.models || c.models.has(id));
  return {
    endpoints: ['/claude/message', '/v1/messages', ...(c.countTokensPerMinute > 0 ? ['/v1/messages/count_tokens'] : []), '/v1/models', '/v1/models/{model_id}'],
    count_tokens_per_minute: c.countTokensPerMinute,
    ...(c.betas && { betas: [...c.betas] }),
    unit: 'micro-USD per million tokens (1 USD = 1000000); web_search: micro-USD per search',
    markup_percent: c.markupBps / 100,
    max_tokens: { default: c.defaultMaxTokens, maximum: c.maxTokensCap, on_a_free_call: c.freeMaxTokens },
    models: models.map(([id, p]) => ({
      id, input: p.input, output: p.output, cache_write_5m: p.cacheWrite5m, cache_write_1h: p.cacheWrite1h, cache_read: p.cacheRead, web_search: p.webSearch,
      ...(p.longPrompt && { long_prompt: { above_tokens: p.longPrompt.aboveTokens, input: p.longPrompt.input, output: p.longPrompt.output } }),
    })),
    aliases: Object.fromEntries(c.aliases),
  };
}

/** The MCP endpoint: how an agent connects, and each tool with the route it runs and its price. */
function mcpSection(config: Config, mount: string, tools: ReadonlyArray<{ name: string; title: string; route: Route }>) {
  return {
    endpoint: `${mount}${config.mcp!.path}`,
    transport: 'streamable-http (stateless, JSON answers; POST only)',
    authentication: 'Authorization: Bearer <api key>',
    default_user_header: 'X-Aipaygent-User',
    ...(config.payments?.x402 && { x402: 'a tool error carries x402/error; pay the retry with _meta["x402/payment"]' }),
    tools: tools.map((t) => ({ name: t.name, title: t.title, runs: `${t.route.method} ${t.route.path}`, ...(t.route.scope && { scope: t.route.scope }), ...billing(t.route, config.pricing) })),
  };
}

/** The events this server sends its operator's endpoints, and how they are signed (the subscribers are the operator's, not listed). */
function webhooksSection(config: Config) {
  const events = new Set(config.webhooks!.endpoints.flatMap((e) => [...e.events]));
  return {
    events: WEBHOOK_EVENTS.filter((e) => events.has(e)),
    signing: 'Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>)',
    delivery: `at least once, retried with exponential backoff up to ${config.webhooks!.maxAttempts} tries`,
  };
}

/** The catalogue: what the server sells and how, from the configuration it runs with. A section appears only when configured. */
export function catalogue(deps: DiscoveryDeps, req: CoreRequest): Record<string, unknown> {
  const { config, routes } = deps;
  const mount = base(req);
  const hasAdmin = routes.some((r) => r.auth === 'admin');
  return {
    status: 'success',
    name: 'aipaygent',
    version: PACKAGE_VERSION,
    description: 'Persistent per-user JSON memory for AI agents: a free daily quota, prepaid credits, USDC purchases and a billed Claude proxy.',
    base_path: mount || '/',
    openapi: `${mount}/openapi.json`,
    docs: `${mount}/docs`,
    authentication: {
      api_key: 'Authorization: Bearer <api key> (or x-api-key: <api key>)',
      scopes: 'A key may be limited to scopes (memory:read, memory:write, claude, payments): an endpoint naming a scope answers 403 forbidden to a key without it',
      ...(hasAdmin && { admin: 'Authorization: Bearer <admin token> (admin routes)' }),
    },
    endpoints: routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth, ...(r.scope && { scope: r.scope }), ...billing(r, config.pricing), summary: r.summary })),
    free_tier: {
      calls_per_day: config.freeCallsPerDay,
      resets_at: '00:00 UTC',
      applies_to: 'metered endpoints, per account; afterwards each call is debited from the prepaid balance (402 payment_required when it cannot pay)',
    },
    currency: { unit: 'micro-USD', per_usd: 1_000_000 },
    // How to get credits when nothing else is said: the operator (also named in every 402 then).
    ...(config.operatorContact !== undefined && { operator_contact: config.operatorContact }),
    ...(config.payments && { payments: { buy_credits: '/buy-credits', ...buyInstructions(config.payments) } }),
    ...(config.signup && { signup: signupInstructions(config.signup, config.payments?.x402 !== undefined) }),
    ...(config.claude && { claude: claudeSection(config.claude) }),
    ...(config.mcp && deps.mcpTools && { mcp: mcpSection(config, mount, deps.mcpTools()) }),
    ...(config.webhooks && { webhooks: webhooksSection(config) }),
    spend_caps: {
      per: ['API key', 'account'], periods: ['UTC day', 'UTC month'],
      ...(Object.keys(config.spendCaps).length > 0 && { defaults_micro_usd: config.spendCaps }),
      over_cap: '402 payment_required whose payment.spend_cap names the cap and its reset; buying credit does not lift it',
    },
    limits: {
      max_body_bytes: config.limits.maxBodyBytes,
      max_value_bytes: config.limits.maxValueBytes,
      max_json_depth: config.limits.maxDepth,
      max_key_bytes: config.limits.maxKeyBytes,
      ttl_days: { default: config.memory.defaultTtlDays, maximum: config.memory.maxTtlDays },
      ...(config.rateLimit && { rate_limit: { requests: config.rateLimit.requests, window_seconds: config.rateLimit.windowSeconds, per: 'API key' } }),
    },
  };
}

export function discoveryRoutes(deps: DiscoveryDeps): Route[] {
  // Built and serialized on first use: every route is registered by then, and a server nobody asks pays nothing.
  // Only `servers` depends on the request: it is spliced between the two halves of the cached text.
  let halves: [string, string] | undefined;
  const serialize = (): [string, string] => {
    const { openapi, info, ...rest } = buildOpenApi(deps.routes, facts);
    return [JSON.stringify({ openapi, info }).slice(0, -1), JSON.stringify(rest).slice(1)];
  };
  const facts = docFacts(deps.config);
  return [
    route({
      method: 'GET', path: '/discover', auth: 'none', metered: false, tags: ['Discovery'],
      summary: 'The catalogue: endpoints with their price, the free tier, payment options, Claude models and prices, limits.',
      responses: { 200: ok('The catalogue of this server, from its live configuration', z.looseObject({ status: z.literal('success'), endpoints: z.array(z.looseObject({})) })) },
      async handle({ req }) {
        return json(200, catalogue(deps, req), { 'cache-control': 'no-cache' });
      },
    }),
    route({
      method: 'GET', path: '/openapi.json', auth: 'none', metered: false, tags: ['Discovery'],
      summary: 'This OpenAPI 3.1 document, generated from the schemas that validate requests.',
      responses: { 200: ok('The OpenAPI 3.1 document', z.looseObject({ openapi: z.string() })) },
      async handle({ req }) {
        const [head, tail] = (halves ??= serialize());
        // Root-relative: clients resolve it against this document's own URL, so no Host header is trusted.
        const servers = JSON.stringify([{ url: base(req) || '/', description: 'This mount' }]);
        return json(200, `${head},"servers":${servers},${tail}`, { 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
      },
    }),
  ];
}
