// GET /discover: the catalogue follows the live route table and configuration; sections appear only when configured.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING } from '../../src/config.js';
import { ADMIN_TOKEN, call, describeMounts, startMount, type Mounted } from '../support/mounts.js';

describeMounts('GET /discover with the defaults', () => ({}), (m: () => Mounted) => {
  it('lists every served route with its auth and billing, links to the mount, no auth needed, nothing metered', async () => {
    const r = await call(`${m().url}/discover`);
    expect(r.status).toBe(200);
    expect(r.headers.get('ratelimit')).toBeNull();
    const d = r.body;
    expect(d).toMatchObject({ status: 'success', name: 'aipaygent', base_path: m().prefix || '/' });
    expect(d.openapi).toBe(`${m().prefix}/openapi.json`);
    expect(d.docs).toBe(`${m().prefix}/docs`);
    expect(d.endpoints.map((e: any) => `${e.method} ${e.path}`)).toEqual(m().ai.routes.map((x) => `${x.method} ${x.path}`));
    const store = d.endpoints.find((e: any) => e.path === '/memory/store');
    expect(store).toMatchObject({ method: 'POST', auth: 'key', metered: true, billing: 'per_call', price_micro_usd: DEFAULT_PRICING['/memory/store'], price_usd: '0.000100' });
    expect(d.endpoints.find((e: any) => e.path === '/memory/user')).toMatchObject({ metered: false, billing: 'free' });
    expect(d.endpoints.find((e: any) => e.path === '/discover')).toMatchObject({ auth: 'none', metered: false });
    expect(d.free_tier.calls_per_day).toBe(10);
    expect(d.authentication.admin).toBeDefined();
    // Not configured, so not claimed.
    expect(d.payments).toBeUndefined();
    expect(d.claude).toBeUndefined();
    expect(d.limits.rate_limit).toBeUndefined();
    expect(d.limits).toMatchObject({ max_body_bytes: 1048576, max_value_bytes: 262144, ttl_days: { default: 365, maximum: 3650 } });
  });
});

describe('GET /discover follows the configuration', () => {
  it('prices, free tier, payments (chain, token, receiver, x402), Claude models with prices, limits', async () => {
    const m = await startMount('express5', {
      parsed: true, prefix: '/ai',
      options: {
        freeCallsPerDay: 3,
        pricing: { '/memory/retrieve': 250 },
        rateLimit: { requests: 50, windowSeconds: 10 },
        limits: { maxValueBytes: 4096 },
        payments: { receiver: '0x00000000000000000000000000000000000000aa', chainId: 84532, minAmount: 5000, x402: { facilitatorUrl: 'http://127.0.0.1:9' } },
        claude: {
          apiKey: 'sk-ant-test-not-used', models: ['claude-opus-4-1', 'my-model'], markupPercent: 20,
          prices: { 'my-model': { input: 1_000_000, output: 2_000_000 } }, aliases: { 'claude-3-5-sonnet-20241022': 'claude-opus-4-1' },
        },
      },
    });
    try {
      const d = (await call(`${m.url}/discover`)).body;
      expect(d.free_tier.calls_per_day).toBe(3);
      expect(d.endpoints.find((e: any) => e.path === '/memory/retrieve').price_micro_usd).toBe(250);
      expect(d.endpoints.find((e: any) => e.path === '/memory/store').price_micro_usd).toBe(DEFAULT_PRICING['/memory/store']);
      expect(d.endpoints.find((e: any) => e.path === '/claude/message')).toMatchObject({ metered: true, billing: 'tokens' });
      expect(d.payments).toMatchObject({
        buy_credits: '/buy-credits', chain_id: 84532, network: 'eip155:84532', receiver: '0x00000000000000000000000000000000000000AA',
        token: { symbol: 'USDC', address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6 }, minimum_amount_base_units: '5000',
        x402: { scheme: 'exact', headers: ['PAYMENT-REQUIRED', 'PAYMENT-SIGNATURE', 'PAYMENT-RESPONSE'] },
      });
      // Only the allowed models are offered, each with its price; the markup and aliases are told.
      expect(d.claude.models.map((x: any) => x.id).sort()).toEqual(['claude-opus-4-1', 'my-model']);
      expect(d.claude.models.find((x: any) => x.id === 'my-model')).toMatchObject({ input: 1_000_000, output: 2_000_000, cache_read: 100_000 });
      expect(d.claude).toMatchObject({ markup_percent: 20, aliases: { 'claude-3-5-sonnet-20241022': 'claude-opus-4-1' }, endpoints: ['/claude/message', '/v1/messages', '/v1/messages/count_tokens', '/v1/models', '/v1/models/{model_id}'] });
      expect(d.claude.count_tokens_per_minute).toBe(120);
      // Each of those is a documented route, with its billing.
      expect(d.endpoints.filter((e: any) => e.path.startsWith('/v1/')).map((e: any) => `${e.method} ${e.path} ${e.billing}`)).toEqual([
        'POST /v1/messages tokens', 'POST /v1/messages/count_tokens free', 'GET /v1/models free', 'GET /v1/models/:model_id free',
      ]);
      expect(d.limits).toMatchObject({ max_value_bytes: 4096, rate_limit: { requests: 50, window_seconds: 10, per: 'API key' } });
      // The same buy instructions GET /buy-credits gives, so the two cannot disagree.
      const buy = (await call(`${m.url}/buy-credits`)).body;
      const { status: _status, ...instructions } = buy;
      expect(d.payments).toMatchObject(instructions);
    } finally {
      await m.close();
    }
  });

  it('without an admin token, no admin routes are listed nor an admin scheme', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { adminToken: undefined } });
    try {
      const d = (await call(`${m.url}/discover`)).body;
      expect(d.endpoints.some((e: any) => e.path.startsWith('/admin'))).toBe(false);
      expect(d.authentication.admin).toBeUndefined();
      expect((await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} })).status).toBe(404);
    } finally {
      await m.close();
    }
  });
});
