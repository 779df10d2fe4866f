// HTTP: the article's /claude/message and Anthropic-compatible /v1/messages (official SDK), billed exactly.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { account, claudeSpend, OPERATOR_KEY, settled, sseEvents, useFakeAnthropic } from '../support/claude.js';
import { json, message, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { call, describeMounts } from '../support/mounts.js';

const fake = useFakeAnthropic();

const ARTICLE_MODEL = 'claude-3-5-sonnet-20241022';
const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000 } });
// Sonnet 3.5: $3 in, $15 out per MTok; the fake reports 25 in, 7 out: 75 + 105 micro-USD.
const FAKE_CALL_COST = 180;

describeMounts('Claude proxy', options, (m) => {
  // This SDK sends both apiKey and authToken as "Authorization: Bearer"; x-api-key goes as a default header.
  const sdk = (key: string, auth: 'apiKey' | 'authToken' | 'x-api-key' = 'apiKey') =>
    new Anthropic({
      baseURL: m().url, maxRetries: 0,
      ...(auth === 'apiKey' ? { apiKey: key } : auth === 'authToken' ? { authToken: key } : { apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': key } }),
    });

  it("answers the article's Python request with Anthropic's Message JSON unchanged, and bills it exactly", async () => {
    const { key } = await account(m(), 1_000_000);
    const sent = message({ text: 'def greet(): ...' });
    let upstreamText = '';
    fake.once((req, res) => {
      upstreamText = JSON.stringify({ ...sent, model: req.body.model });
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_article' });
      res.end(upstreamText);
    });
    const prompt = 'You are a code assistant. This user has the following preferences:\n- Language: Python';
    const r = await call(`${m().url}/claude/message`, { key, body: { messages: [{ role: 'user', content: prompt }], model: ARTICLE_MODEL } });
    expect(r.status).toBe(200);
    expect(r.body.content[0].text).toBe('def greet(): ...');
    expect(r.text).toBe(upstreamText);
    expect(r.headers.get('x-cost-micro-usd')).toBe(String(FAKE_CALL_COST));
    expect(r.headers.get('request-id')).toBe('req_article');
    expect(r.headers.get('x-credits-balance-micro-usd')).toBe(String(1_000_000 - FAKE_CALL_COST));

    // Upstream got the operator's key (never the client's), the default max_tokens, the same messages.
    const up = fake.requests[0]!;
    expect(up.path).toBe('/v1/messages');
    expect(up.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect(JSON.stringify(up.headers)).not.toContain(key);
    expect(up.body).toEqual({ messages: [{ role: 'user', content: prompt }], model: ARTICLE_MODEL, max_tokens: 1024 });

    const { spent, entries } = await claudeSpend(m(), key);
    expect(spent).toBe(FAKE_CALL_COST);
    expect(entries.map((e) => e.kind)).toEqual(['settle', 'hold']);
    expect(entries[0].memo).toMatch(new RegExp(`^claude ${ARTICLE_MODEL} request=req_article message=msg_fake\\d+ in=25 out=7 cache_write=0 cache_read=0$`));
  });

  it('works with the official SDK as a client: messages.create with the key as apiKey, authToken or x-api-key', async () => {
    const { key } = await account(m(), 1_000_000);
    for (const auth of ['apiKey', 'authToken', 'x-api-key'] as const) {
      const msg = await sdk(key, auth).messages.create({ model: ARTICLE_MODEL, max_tokens: 300, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
      expect(msg.content[0]).toEqual({ type: 'text', text: 'Hello from the fake Claude.' });
      expect(msg.usage).toMatchObject({ input_tokens: 25, output_tokens: 7 });
      expect(msg._request_id).toMatch(/^req_fake/);
    }
    expect(fake.requests.map((r) => [r.body.max_tokens, r.body.system, r.headers.authorization, r.headers['x-api-key']])).toEqual(
      Array(3).fill([300, 'Be brief.', `Bearer ${OPERATOR_KEY}`, undefined]),
    );
    expect((await claudeSpend(m(), key)).spent).toBe(3 * FAKE_CALL_COST);
  });

  it('streams with the SDK (stream: true and messages.stream().finalMessage()) and bills the cumulative usage', async () => {
    const { key } = await account(m(), 1_000_000);
    const client = sdk(key);
    const stream = await client.messages.create({ model: ARTICLE_MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe('Hello from the fake Claude.');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    const final = await client.messages.stream({ model: ARTICLE_MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello from the fake Claude.' });
    expect(final.usage.output_tokens).toBe(7);
    expect(fake.requests.every((r) => r.body.stream === true)).toBe(true);
    expect((await settled(m(), key)).spent).toBe(2 * FAKE_CALL_COST);
  });

  it('ends a billed stream with its cost as a final SSE comment, after message_stop', async () => {
    const { key } = await account(m(), 1_000_000);
    const r = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, stream: true, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.text);
    expect(events.map(([e]) => e)).toEqual([
      'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_delta',
      'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'comment',
    ]);
    expect(events.at(-1)).toEqual(['comment', `aipaygent-cost-micro-usd=${FAKE_CALL_COST}`]);
    expect((await settled(m(), key)).spent).toBe(FAKE_CALL_COST);
  });

  it('passes other Messages API fields and the anthropic-beta header through unchanged', async () => {
    const { key } = await account(m(), 1_000_000);
    const body = {
      model: ARTICLE_MODEL, max_tokens: 50, temperature: 0.2, stop_sequences: ['END'], metadata: { user_id: 'u1' },
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }],
    };
    const r = await call(`${m().url}/v1/messages`, { key, body, headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
    expect(r.status).toBe(200);
    expect(fake.requests[0]!.body).toEqual(body);
    expect(fake.requests[0]!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
  });

  it('rejects an unknown model, a bad body or too many max_tokens with 400 before any upstream call or charge', async () => {
    const { key } = await account(m(), 1_000_000);
    const bad = await call(`${m().url}/claude/message`, { key, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ status: 'error', error: { code: 'invalid_request', message: 'model "gpt-4o" is not available on this server' } });
    const cap = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, max_tokens: 64_001, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(cap.body.error).toEqual({ code: 'invalid_request', message: 'max_tokens must be at most 64000 on this server' });
    expect((await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL } })).body.error.message).toBe('messages is required');
    const v1 = await call(`${m().url}/v1/messages`, { key, body: { model: 'claude-nope', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(v1.status).toBe(400);
    expect(v1.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'model "claude-nope" is not available on this server' } });
    await expect(sdk(key).messages.create({ model: 'claude-nope', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(fake.requests).toEqual([]);
    expect((await claudeSpend(m(), key)).entries).toEqual([]);
  });

  it("answers Anthropic's error JSON on /v1/messages for our own errors too (bad key, 402)", async () => {
    const noKey = await call(`${m().url}/v1/messages`, { body: { model: ARTICLE_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.stringMatching(/API key/) } });
    await expect(sdk('apg_not_a_key').messages.create({ model: ARTICLE_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);

    const { key } = await account(m(), 0);
    const ours = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(ours.status).toBe(402);
    expect(ours.body.error.code).toBe('payment_required');
    expect(ours.body.payment).toMatchObject({ balance_micro_usd: 0, price_micro_usd: expect.any(Number) });
    expect(ours.body.payment.price_micro_usd).toBeGreaterThan(1024 * 15); // at least max_tokens of output
    const theirs = await call(`${m().url}/v1/messages`, { key, body: { model: ARTICLE_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(theirs.status).toBe(402);
    expect(theirs.body).toMatchObject({ type: 'error', error: { type: 'billing_error' }, payment: { balance_micro_usd: 0 } });
    expect(fake.requests).toEqual([]);
  });

  it('reserves the worst case first: a balance that covers the call but not max_tokens of output is refused', async () => {
    // 1024 output tokens at $15/MTok alone need 15,360 micro-USD.
    const { key } = await account(m(), 15_000);
    const r = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(r.status).toBe(402);
    const small = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] } });
    expect(small.status).toBe(200);
    expect(small.headers.get('x-credits-balance-micro-usd')).toBe(String(15_000 - FAKE_CALL_COST));
  });

  it('bills the usage the upstream reports, cache reads and writes included', async () => {
    const { key } = await account(m(), 1_000_000);
    const usage = {
      input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
    };
    fake.once((req, res) => json(res, message({ model: req.body.model, usage })));
    const r = await call(`${m().url}/claude/message`, { key, body: { model: ARTICLE_MODEL, messages: [{ role: 'user', content: 'Hi' }] } });
    // 100x3 + 50x15 + 1000x0.3 + 100x3.75 + 200x6 = 300 + 750 + 300 + 375 + 1200
    expect(r.headers.get('x-cost-micro-usd')).toBe('2925');
    expect((await claudeSpend(m(), key)).spent).toBe(2925);
  });
});

describeMounts('Claude proxy: aliases, markup and free calls', () => ({
  freeCallsPerDay: 1,
  claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, freeMaxTokens: 16, markupPercent: 50, aliases: { [ARTICLE_MODEL]: 'claude-haiku-4-5' } },
}), (m) => {
  it("sends an aliased model upstream, prices it as that model, and lets one free call cover one Claude call", async () => {
    const { key } = await account(m(), 1_000_000);
    const body = { messages: [{ role: 'user', content: 'Hi' }], model: ARTICLE_MODEL, max_tokens: 500 };
    const free = await call(`${m().url}/claude/message`, { key, body });
    expect(free.status).toBe(200);
    expect(free.headers.get('x-cost-micro-usd')).toBe('0');
    expect(free.headers.get('ratelimit')).toBe(`"free";r=0;t=${free.headers.get('ratelimit')!.split('t=')[1]}`);
    expect(fake.requests[0]!.body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 16 });
    expect((await claudeSpend(m(), key)).entries).toEqual([]);

    const paid = await call(`${m().url}/claude/message`, { key, body });
    expect(paid.status).toBe(200);
    // Haiku 4.5: 25 x $1 + 7 x $5 per MTok = 60 micro-USD, +50% = 90.
    expect(paid.headers.get('x-cost-micro-usd')).toBe('90');
    expect(fake.requests[1]!.body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 500 });
    expect((await claudeSpend(m(), key)).spent).toBe(90);
  });
});
