// HTTP: upstream errors (429, 529, 4xx, 401), timeouts, retries, mid-stream errors, slow streams, disconnects.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { account, claudeSpend, OPERATOR_KEY, settled, sseEvents, useFakeAnthropic } from '../support/claude.js';
import { error, frame, json, message, sse, streamFrames } from '../support/fake-anthropic.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';

const logs: string[] = [];
const fake = useFakeAnthropic(() => void (logs.length = 0));

const MODEL = 'claude-3-5-sonnet-20241022';
const TIMEOUT_MS = 1000;
const logger = { warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
const options = () => ({ freeCallsPerDay: 0, logger, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: TIMEOUT_MS } });
const body = (extra: Record<string, unknown> = {}) => ({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], ...extra });
const both = (m: Mounted, key: string, b = body()) =>
  Promise.all([call(`${m.url}/claude/message`, { key, body: b }), call(`${m.url}/v1/messages`, { key, body: b })]);

describeMounts('Claude proxy failures', options, (m) => {
  const sdk = (key: string) => new Anthropic({ apiKey: key, baseURL: m().url, maxRetries: 0 });

  it('maps an upstream 429 (retry-after passed on) to our error shape and to Anthropic\'s, charging nothing', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '7' }));
    const [ours, theirs] = await both(m(), key);
    expect(ours.status).toBe(429);
    expect(ours.body).toEqual({ status: 'error', error: { code: 'rate_limited', message: expect.stringMatching(/rate limited/) } });
    expect(ours.headers.get('retry-after')).toBe('7');
    expect(theirs.status).toBe(429);
    expect(theirs.body).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
    expect(theirs.headers.get('retry-after')).toBe('7');
    await expect(sdk(key).messages.create(body() as never)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    expect(fake.requests).toHaveLength(3);
    expect((await claudeSpend(m(), key)).spent).toBe(0);
  });

  it('maps 529 overloaded_error: kept as 529 on /v1/messages (SDKs retry it), 502 in our shape', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 529, 'overloaded_error', 'Overloaded'));
    const [ours, theirs] = await both(m(), key);
    expect(ours.status).toBe(502);
    expect(ours.body.error).toEqual({ code: 'upstream_error', message: 'Claude is temporarily overloaded; retry shortly.' });
    expect(theirs.status).toBe(529);
    expect(theirs.body).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Claude is temporarily overloaded; retry shortly.' } });
    const e = await sdk(key).messages.create(body() as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.APIError);
    expect((e as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((await claudeSpend(m(), key)).spent).toBe(0);
  });

  it("passes on Anthropic's message for a request it rejects (400), as a 400", async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 400, 'invalid_request_error', 'messages: roles must alternate between "user" and "assistant"'));
    const [ours, theirs] = await both(m(), key);
    expect(ours.status).toBe(400);
    expect(ours.body.error).toEqual({ code: 'invalid_request', message: 'Claude: messages: roles must alternate between "user" and "assistant"' });
    expect(theirs.status).toBe(400);
    expect(theirs.body.error).toEqual({ type: 'invalid_request_error', message: 'Claude: messages: roles must alternate between "user" and "assistant"' });
  });

  it("never shows the operator's key, account state or upstream URL: a refused operator key is a masked 502, logged", async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 401, 'authentication_error', `invalid x-api-key ${OPERATOR_KEY}`));
    const [ours, theirs] = await both(m(), key);
    for (const r of [ours, theirs]) {
      expect(r.status).toBe(502);
      expect(r.text).not.toContain(OPERATOR_KEY);
      expect(r.text).not.toContain(fake.url);
      expect(r.text).not.toMatch(/x-api-key|stack|at \w+ \(/);
    }
    expect(theirs.body.error.type).toBe('api_error');
    expect(logs.some((l) => /refused this server's API key or account \(HTTP 401\)/.test(l))).toBe(true);
  });

  it('answers 504 when the upstream does not answer in time, and charges the prompt it may have processed', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault(() => {}); // never answers
    const started = Date.now();
    const [ours, theirs] = await both(m(), key);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ours.status).toBe(504);
    expect(ours.body.error.code).toBe('upstream_timeout');
    expect(theirs.status).toBe(504);
    expect(theirs.body.error.type).toBe('timeout_error');
    const { spent } = await claudeSpend(m(), key);
    expect(spent).toBeGreaterThan(0);
    expect(Number(ours.headers.get('x-cost-micro-usd')) + Number(theirs.headers.get('x-cost-micro-usd'))).toBe(spent);
  });

  it('passes a mid-stream error event on and settles on the usage seen (never zero once tokens came)', async () => {
    const { key } = await account(m(), 1_000_000);
    const msg = message({ usage: { input_tokens: 25, output_tokens: 7 } });
    const head = streamFrames(msg, ['one', 'two']).slice(0, 5); // start, block start, ping, 2 deltas
    const failure = frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    fake.setDefault((_req, res) => sse(res, [...head, failure]));
    const r = await call(`${m().url}/claude/message`, { key, body: body({ stream: true }) });
    expect(r.status).toBe(200);
    expect(r.text.startsWith(head.join('') + failure)).toBe(true);
    // 25 input x $3 + 2 deltas (at least one token each) x $15 per MTok.
    expect(sseEvents(r.text).at(-1)).toEqual(['comment', 'aipaygent-cost-micro-usd=105']);
    expect((await settled(m(), key)).spent).toBe(105);

    const stream = await sdk(key).messages.create(body({ stream: true }) as never);
    const e = await (async () => {
      for await (const _ of stream as unknown as AsyncIterable<unknown>);
    })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.APIError);
    expect((e as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
  });

  it('streams as the upstream produces: the first delta reaches the client long before the upstream ends', async () => {
    const { key } = await account(m(), 1_000_000);
    const frames = streamFrames(message(), Array.from({ length: 8 }, (_, i) => `w${i} `));
    let upstreamDone = 0;
    fake.setDefault(async (_req, res) => {
      await sse(res, frames, 80);
      upstreamDone = Date.now();
    });
    const res = await fetch(`${m().url}/claude/message`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body({ stream: true })) });
    const reader = res.body!.getReader();
    let text = '';
    let firstDelta = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += new TextDecoder().decode(r.value);
      if (!firstDelta && text.includes('event: content_block_delta')) firstDelta = Date.now();
    }
    expect(upstreamDone - firstDelta).toBeGreaterThan(400);
    expect(text.startsWith(frames.join(''))).toBe(true);
  });

  it('aborts the upstream when the client disconnects mid-stream, and charges the usage so far', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => sse(res, streamFrames(message(), Array.from({ length: 60 }, () => 'x')), 40));
    const ac = new AbortController();
    const res = await fetch(`${m().url}/v1/messages`, {
      method: 'POST', signal: ac.signal, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body({ stream: true })),
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: content_block_delta')) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.aborted).toBe(true);
    const { spent, entries } = await settled(m(), key);
    expect(spent).toBeGreaterThanOrEqual(75 + 15); // the prompt and at least one output token
    expect(spent).toBeLessThan(75 + 60 * 15);
    expect(entries[0].memo).toMatch(/request=req_fake\d+ message=msg_fake\d+ in=25 out=\d+/);
  });

  it('aborts the upstream when the client disconnects while waiting for a JSON answer, and charges the prompt', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((req, res) => void setTimeout(() => !res.destroyed && json(res, message({ model: req.body.model })), 600));
    const ac = new AbortController();
    const pending = fetch(`${m().url}/claude/message`, { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body()) }).catch(() => null);
    while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await pending;
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.aborted).toBe(true);
    const { spent } = await settled(m(), key);
    expect(spent).toBeGreaterThan(0);
  });

  it('closes a stalled stream with an error event after the timeout and charges what was seen', async () => {
    const { key } = await account(m(), 1_000_000);
    const frames = streamFrames(message()).slice(0, 3);
    fake.setDefault((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const f of frames) res.write(f); // then silence
    });
    const r = await call(`${m().url}/claude/message`, { key, body: body({ stream: true }) });
    const events = sseEvents(r.text);
    expect(events.map(([e]) => e)).toEqual(['message_start', 'content_block_start', 'ping', 'error', 'comment']);
    expect(events[3]![1].error.type).toBe('timeout_error');
    // message_start reported 25 input and 1 output token: 75 + 15.
    expect(events[4]).toEqual(['comment', 'aipaygent-cost-micro-usd=90']);
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.aborted).toBe(true);
  });
});

describeMounts('Claude proxy retries', () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 1 } }), (m) => {
  it('retries a 429 or 529 upstream (retry-after honoured) and bills the one answer', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.once((_req, res) => error(res, 429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '20' }));
    const r = await call(`${m().url}/claude/message`, { key, body: body() });
    expect(r.status).toBe(200);
    fake.once((_req, res) => error(res, 529, 'overloaded_error', 'Overloaded', { 'retry-after-ms': '20' }));
    const r2 = await call(`${m().url}/v1/messages`, { key, body: body() });
    expect(r2.status).toBe(200);
    expect(fake.requests).toHaveLength(4);
    expect((await claudeSpend(m(), key)).spent).toBe(2 * 180);
  });
});
