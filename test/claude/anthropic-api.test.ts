// The rest of Anthropic's API through the official SDK on every mount: count_tokens, models, unknown /v1 paths, headers both ways.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../src/claude/default-prices.js';
import { account, claudeSpend, OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { countOf, limited, UPSTREAM_HEADERS } from '../support/fake-anthropic.js';
import { call, describeMounts } from '../support/mounts.js';

const fake = useFakeAnthropic();
const ALIAS = 'claude-3-5-sonnet-20241022';
const SERVED = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];
const COUNT_LIMIT = 4;
const options = () => ({
  freeCallsPerDay: 1,
  claude: {
    apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000, countTokensPerMinute: COUNT_LIMIT, markupPercent: 10,
    models: SERVED, aliases: { [ALIAS]: 'claude-haiku-4-5' },
  },
});
/** The order of the default price table (newest first), which /v1/models follows. */
const DEFAULT_ORDER = Object.keys(DEFAULT_PRICES);
const ask = { model: ALIAS, messages: [{ role: 'user' as const, content: 'How many tokens is this?' }] };

describeMounts('Anthropic API', options, (m) => {
  const sdk = (key: string, headers: Record<string, string> = {}) => new Anthropic({ baseURL: m().url, apiKey: key, maxRetries: 0, defaultHeaders: headers });

  it('messages.countTokens is proxied with our key, free: no free call taken, nothing charged, headers both ways', async () => {
    const { key } = await account(m(), 0);
    const client = sdk(key, { 'anthropic-version': '2099-01-01', 'anthropic-beta': 'token-counting-2024-11-01' });
    const body = { ...ask, system: 'Be brief.', some_future_field: { nested: [1, 2] } } as Anthropic.MessageCountTokensParams;
    const counted = await client.messages.countTokens(body).withResponse();
    expect(counted.data).toEqual({ input_tokens: countOf(body as never) });
    expect(counted.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
    expect(counted.response.headers.get('request-id')).toMatch(/^req_fake/);
    expect(counted.response.headers.get('anthropic-organization-id')).toBeNull();
    const up = fake.requests[0]!;
    expect(up.path).toBe('/v1/messages/count_tokens');
    expect(up.body).toEqual({ ...body, model: 'claude-haiku-4-5' });
    expect(up.headers['x-api-key'] ?? up.headers.authorization).toMatch(OPERATOR_KEY);
    expect(up.headers['anthropic-version']).toBe('2099-01-01');
    expect(up.headers['anthropic-beta']).toBe('token-counting-2024-11-01');
    await client.messages.countTokens(ask);
    // The day's one free call is still there: the next Messages call uses it (nothing to reserve on a 0 balance).
    const free = await client.messages.create({ ...ask, max_tokens: 10 }).withResponse();
    expect(free.response.headers.get('x-cost-micro-usd')).toBe('0');
    await expect(client.messages.countTokens(ask)).resolves.toMatchObject({ input_tokens: expect.any(Number) });
    await expect(client.messages.create({ ...ask, max_tokens: 10 })).rejects.toMatchObject({ status: 402 });
    expect((await claudeSpend(m(), key)).entries).toEqual([]);
  });

  it(`count_tokens is rate-limited per key (${COUNT_LIMIT} a minute): 429 rate_limit_error with retry-after, nothing sent upstream`, async () => {
    const { key } = await account(m(), 0);
    for (let i = 0; i < COUNT_LIMIT; i++) await sdk(key).messages.countTokens(ask);
    const refused = await call(`${m().url}/v1/messages/count_tokens`, { headers: { 'x-api-key': key }, body: ask });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringContaining(`at most ${COUNT_LIMIT} count_tokens calls per minute`) } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expect(sdk(key).messages.countTokens(ask)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    expect(fake.requests).toHaveLength(COUNT_LIMIT);
    // Another key has its own budget; a bad key or model is refused before the limiter or the upstream.
    await expect(sdk((await account(m(), 0)).key).messages.countTokens(ask)).resolves.toBeDefined();
    await expect(sdk('apg_nope').messages.countTokens(ask)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(sdk(key).messages.countTokens({ ...ask, model: 'gpt-4o' })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(fake.requests).toHaveLength(COUNT_LIMIT + 1);
  });

  it('models.list pages through the models this server sells, with our prices; models.retrieve; 404 for others', async () => {
    const { key } = await account(m(), 0);
    const client = sdk(key);
    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) ids.push(model.id);
    expect(ids).toEqual([...SERVED.filter((id) => DEFAULT_ORDER.indexOf(id) >= 0).sort((a, b) => DEFAULT_ORDER.indexOf(a) - DEFAULT_ORDER.indexOf(b)), ALIAS]);
    const first = await call(`${m().url}/v1/models?limit=2`, { key });
    expect(first.body).toEqual({ data: [expect.any(Object), expect.any(Object)], has_more: true, first_id: ids[0], last_id: ids[1] });
    const back = await call(`${m().url}/v1/models?limit=2&before_id=${ALIAS}`, { key });
    expect(back.body).toMatchObject({ has_more: true, first_id: ids[1], last_id: ids[2] });
    // Sonnet 4.5 at +10%: $3.30 in, $16.50 out, $4.125 / $6.60 cache writes, $0.33 cache reads per MTok.
    const sonnet = await client.models.retrieve('claude-sonnet-4-5');
    expect(sonnet).toMatchObject({ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect((sonnet as any).aipaygent_pricing).toMatchObject({
      unit: 'micro-USD per million tokens', input: 3_300_000, output: 16_500_000, cache_write_5m: 4_125_000, cache_write_1h: 6_600_000, cache_read: 330_000, web_search: 11_000,
    });
    const alias = await client.models.retrieve(ALIAS);
    expect(alias).toMatchObject({ id: ALIAS, display_name: 'Claude 3.5 Sonnet', created_at: '2024-10-22T00:00:00Z', aipaygent_alias_of: 'claude-haiku-4-5' });
    const missing = client.models.retrieve('claude-3-opus-20240229');
    await expect(missing).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(missing).rejects.toMatchObject({ error: { type: 'error', error: { type: 'not_found_error' } } });
    await expect(client.models.list({ after_id: 'nope' })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(sdk('apg_nope').models.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    expect(fake.requests).toEqual([]);
  });

  it("any other path under /v1 answers Anthropic's JSON not_found_error (never the host's HTML); the host's routes still work", async () => {
    const { key } = await account(m(), 0);
    const other = sdk(key).post('/v1/messages/batches', { body: { requests: [] } });
    await expect(other).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(other).rejects.toMatchObject({ error: { type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('POST /v1/messages/batches') } } });
    for (const [method, path] of [['GET', '/v1/files'], ['DELETE', '/v1/models/x/y'], ['GET', '/v1'], ['PUT', '/v1/complete']]) {
      const r = await call(`${m().url}${path}`, { method, key });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    }
    const wrongMethod = await call(`${m().url}/v1/messages`, { key });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((await call(`${m().hostUrl}/host/ping`)).body).toEqual({ host: true });
    expect((await call(`${m().url}/v1x/messages`)).status).toBe(404); // not under the prefix: the host's answer
    expect(fake.requests).toEqual([]);
  });

  it('relays request-id, retry-after and anthropic-ratelimit-* on success, 429 and 529; withholds the organization id', async () => {
    const { key } = await account(m(), 1_000_000);
    const client = sdk(key);
    const ok = await client.messages.create({ ...ask, max_tokens: 10 }).withResponse();
    const streamed = await client.messages.create({ ...ask, max_tokens: 10, stream: true }).withResponse();
    for await (const _ of streamed.data);
    for (const res of [ok.response, streamed.response]) {
      for (const [name, value] of Object.entries(UPSTREAM_HEADERS)) expect(res.headers.get(name)).toBe(name === 'anthropic-organization-id' ? null : value);
      expect(res.headers.get('request-id')).toMatch(/^req_fake/);
    }
    for (const status of [429, 529] as const) {
      fake.once((_req, res) => limited(res, status, '13'));
      const failed = (await client.messages.create({ ...ask, max_tokens: 10 }).then(() => undefined, (e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(failed).toBeInstanceOf(status === 429 ? Anthropic.RateLimitError : Anthropic.InternalServerError);
      expect(failed.status).toBe(status);
      expect(failed.headers?.get('retry-after')).toBe('13');
      expect(failed.headers?.get('anthropic-ratelimit-requests-remaining')).toBe('0');
      expect(failed.headers?.get('anthropic-ratelimit-input-tokens-limit')).toBe('400000');
      expect(failed.headers?.get('anthropic-organization-id')).toBeNull();
      expect(failed.requestID).toMatch(/^req_fake/);
    }
  });
});
