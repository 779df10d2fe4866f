// The documentation is what the server does: real answers fit their documented status, schema and headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Route } from '../../src/http/route.js';
import { openApiPath } from '../../src/http/openapi.js';
import { ErrorBody, PaymentRequiredBody } from '../../src/http/openapi-schemas.js';
import { HEADER_DOCS } from '../../src/http/openapi-headers.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';

type Answer = Awaited<ReturnType<typeof call>>;

/** Headers a documented response may lack: they depend on the upstream or on x402 being used. */
const CONDITIONAL = new Set(['payment-response', 'request-id', 'payment-required']);

describe('documented responses match real ones', () => {
  let m: Mounted;
  let fake: FakeAnthropic;
  let doc: any;
  const seen = new Set<string>();

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    m = await startMount('express5', { parsed: true, prefix: '/ai', options: { freeCallsPerDay: 2, claude: { apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 } } });
    doc = (await call(`${m.url}/openapi.json`)).body;
  });
  afterAll(async () => {
    await m?.close();
    await fake?.close();
  });

  const routeOf = (method: string, path: string): Route => {
    const r = m.ai.routes.find((x) => x.method === method && new RegExp(`^${x.path.replace(/:[^/]+/g, '[^/]+')}$`).test(path));
    if (!r) throw new Error(`no route for ${method} ${path}`);
    return r;
  };

  /** Parses `body` with `schema`; plain objects must not carry undocumented fields (zod drops them, so the result differs). */
  function conform(schema: z.ZodType, body: unknown, what: string): void {
    const parsed = schema.safeParse(body);
    expect(parsed.success, `${what}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
    expect(parsed.data, `${what}: undocumented fields`).toEqual(body);
  }

  /** Checks one real answer against the route's documentation and the document's list of statuses. */
  function check(method: string, path: string, r: Answer): Answer {
    const route = routeOf(method, path);
    const what = `${method} ${path} -> ${r.status}`;
    seen.add(`${route.method} ${route.path} ${r.status}`);
    const op = doc.paths[openApiPath(route.path)][method.toLowerCase()];
    expect(Object.keys(op.responses), `${what} is not a documented status`).toContain(String(r.status));
    if (r.status < 400 || route.responses?.[r.status]) {
      const documented = route.responses?.[r.status];
      expect(documented, `${what}: the route documents no ${r.status}`).toBeDefined();
      if (documented!.schema) conform(documented!.schema, r.body, what);
      const names = Object.keys(op.responses[String(r.status)].headers ?? {}).map((h) => h.toLowerCase());
      for (const h of names.filter((n) => !CONDITIONAL.has(n))) expect(r.headers.get(h), `${what}: header ${h}`).not.toBeNull();
    } else conform(route.errorBody ?? (r.status === 402 ? PaymentRequiredBody : ErrorBody), r.body, what);
    return r;
  }

  const admin = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${m.url}${path}`, { key: ADMIN_TOKEN, ...init });

  it('memory, credits and admin routes, their errors and the 402', async () => {
    const created = check('POST', '/admin/keys', await admin('/admin/keys', { body: { label: 'docs' } }));
    const key = created.body.api_key as string;
    const account = created.body.account_id as string;
    const k = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${m.url}${path}`, { key, ...init });
    check('POST', '/admin/credits', await admin('/admin/credits', { body: { account_id: account, amount_micro_usd: 5000, reason: 'test', reference: 'g1' } }));
    check('POST', '/admin/credits', await admin('/admin/credits', { body: { account_id: account, amount_micro_usd: 5000, reason: 'test', reference: 'g1' } }));
    check('POST', '/admin/credits', await admin('/admin/credits', { body: { account_id: 'acct_nobody', amount_micro_usd: 1, reason: 'x' } }));

    const article = { user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python', documented: true }, ttl_days: 365 };
    check('POST', '/memory/store', await k('/memory/store', { body: article }));
    check('GET', '/memory/retrieve', await k('/memory/retrieve?user_id=dev_user_123&key=coding_preferences'));
    check('GET', '/memory/list', await k('/memory/list?user_id=dev_user_123&limit=1'));
    check('DELETE', '/memory/delete', await k('/memory/delete?user_id=dev_user_123&key=coding_preferences', { method: 'DELETE' }));
    check('GET', '/memory/retrieve', await k('/memory/retrieve?user_id=dev_user_123&key=coding_preferences'));
    check('POST', '/memory/store', await k('/memory/store', { body: { ...article, ttl_days: -1 } }));
    check('POST', '/memory/store', await k('/memory/store', { body: article, headers: { 'if-match': '"nope"' } }));
    check('DELETE', '/memory/user', await k('/memory/user?user_id=dev_user_123', { method: 'DELETE' }));
    check('GET', '/credits/balance', await k('/credits/balance'));
    check('GET', '/credits/ledger', await k('/credits/ledger?limit=5'));
    check('GET', '/memory/retrieve', await call(`${m.url}/memory/retrieve?user_id=a&key=b`, { key: 'apg_not_a_key' }));

    // A fresh account: two free calls, then a 402 with the payment object.
    const poor = (await admin('/admin/keys', { body: {} })).body.api_key as string;
    for (let i = 0; i < 2; i++) check('GET', '/memory/list', await call(`${m.url}/memory/list?user_id=u`, { key: poor }));
    const refused = check('GET', '/memory/list', await call(`${m.url}/memory/list?user_id=u`, { key: poor }));
    expect(refused.status).toBe(402);

    // Scopes, expiry, rotation, accounts: their answers and refusals as documented.
    const reader = check('POST', '/admin/keys', await admin('/admin/keys', { body: { account_id: account, scopes: ['memory:read'], expires_at: new Date(Date.now() + 3_600_000).toISOString() } }));
    check('POST', '/memory/store', await call(`${m.url}/memory/store`, { key: reader.body.api_key, body: article }));
    check('DELETE', '/memory/user', await call(`${m.url}/memory/user?user_id=u`, { key: reader.body.api_key, method: 'DELETE' }));
    check('POST', '/admin/keys', await admin('/admin/keys', { body: { scopes: ['nope'] } }));
    check('GET', '/admin/keys', await admin(`/admin/keys?account_id=${account}`));
    check('POST', '/admin/keys/:key_id/rotate', await admin(`/admin/keys/${reader.body.key_id}/rotate`, { body: { grace_seconds: 60 } }));
    check('POST', '/admin/keys/:key_id/rotate', await admin(`/admin/keys/${reader.body.key_id}/rotate`, { method: 'POST' }));
    check('POST', '/admin/keys/:key_id/rotate', await admin('/admin/keys/key_nope/rotate', { method: 'POST' }));
    check('GET', '/admin/accounts', await admin('/admin/accounts?limit=1'));
    check('GET', '/admin/accounts', await admin('/admin/accounts?cursor=x'));
    check('GET', '/admin/accounts/:account_id', await admin(`/admin/accounts/${account}`));
    check('GET', '/admin/accounts/:account_id', await admin('/admin/accounts/acct_nobody'));

    const other = (await admin('/admin/keys', { body: { account_id: account } })).body.key_id as string;
    check('DELETE', '/admin/keys/:key_id', await admin(`/admin/keys/${other}`, { method: 'DELETE' }));
    check('DELETE', '/admin/keys/:key_id', await admin(`/admin/keys/${other}x`, { method: 'DELETE' }));
    check('POST', '/admin/keys', await call(`${m.url}/admin/keys`, { key: 'wrong-admin-token-000000', body: {} }));
    const usage = check('GET', '/admin/usage', await admin(`/admin/usage?account_id=${account}&bucket=day`));
    expect(usage.body.totals).toMatchObject({ free_calls: 2, credited_micro_usd: 5000 });
    check('GET', '/admin/usage', await admin('/admin/usage?from=2026-12-06T13:00:00Z&to=2026-12-06T12:00:00Z'));
    check('GET', '/admin/usage', await admin(`/admin/usage?account_id=acct_${'a'.repeat(16)}`));
  });

  it('Claude routes (our shape and Anthropic\'s), discovery routes, and the memory edit routes when present', async () => {
    const key = (await admin('/admin/keys', { body: {} })).body.api_key as string;
    const k = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${m.url}${path}`, { key, ...init });
    const ask = { model: 'claude-3-5-sonnet-20241022', messages: [{ role: 'user', content: 'hi' }] };
    check('POST', '/claude/message', await k('/claude/message', { body: { ...ask, model: 'claude-opus-4-1' } }));
    check('POST', '/claude/message', await k('/claude/message', { body: { ...ask, model: 'no-such-model' } }));
    check('POST', '/v1/messages', await call(`${m.url}/v1/messages`, { body: ask, headers: { 'x-api-key': 'apg_bad' } }));
    check('POST', '/v1/messages/count_tokens', await k('/v1/messages/count_tokens', { body: ask }));
    check('POST', '/v1/messages/count_tokens', await k('/v1/messages/count_tokens', { body: { ...ask, model: 'no-such-model' } }));
    check('GET', '/v1/models', await k('/v1/models?limit=3'));
    check('GET', '/v1/models', await k('/v1/models?limit=0'));
    check('GET', '/v1/models/:model_id', await k('/v1/models/claude-opus-4-1'));
    check('GET', '/v1/models/:model_id', await k('/v1/models/no-such-model'));
    check('GET', '/discover', await call(`${m.url}/discover`));
    check('GET', '/openapi.json', await call(`${m.url}/openapi.json`));
    check('GET', '/docs/:asset', await call(`${m.url}/docs/nope.js`));
    if (m.ai.routes.some((r) => r.path === '/buy-credits')) check('GET', '/buy-credits', await call(`${m.url}/buy-credits`));
    if (m.ai.routes.some((r) => r.path === '/memory/append')) {
      check('POST', '/memory/append', await k('/memory/append', { body: { user_id: 'u', key: 'h', path: '/messages', items: [{ role: 'user' }] } }));
      check('PATCH', '/memory/patch', await k('/memory/patch', { method: 'PATCH', body: { user_id: 'u', key: 'h', patch: { insights: [] } } }));
      check('POST', '/memory/patch', await k('/memory/patch', { body: { user_id: 'u', key: 'h', operations: [{ op: 'test', path: '/nope', value: 1 }] } }));
      check('GET', '/memory/history', await k('/memory/history?user_id=u&key=h'));
    }
  });

  it('covered the documented success responses of the routes it called', () => {
    // Guards the test itself: a renamed route would otherwise pass unnoticed.
    for (const s of ['POST /memory/store 403', 'DELETE /memory/user 403', 'POST /admin/keys/:key_id/rotate 201', 'POST /admin/keys/:key_id/rotate 409',
      'GET /admin/accounts 200', 'GET /admin/accounts/:account_id 200', 'GET /admin/keys 200', 'POST /memory/store 200', 'GET /memory/retrieve 404', 'GET /memory/list 402', 'POST /admin/credits 201', 'POST /admin/credits 200', 'GET /admin/usage 200', 'POST /claude/message 200', 'POST /v1/messages 401',
      'POST /v1/messages/count_tokens 200', 'GET /v1/models 200', 'GET /v1/models/:model_id 200', 'GET /v1/models/:model_id 404']) {
      expect(seen).toContain(s);
    }
    expect(Object.keys(HEADER_DOCS)).toContain('x-credits-balance-micro-usd');
  });
});
