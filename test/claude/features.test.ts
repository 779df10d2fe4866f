// New API features pass through untouched (thinking, tool use, caching, unknown fields, betas) and are billed to the micro-USD, streamed and not.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { account, claudeSpend, OPERATOR_KEY, settled, useFakeAnthropic } from '../support/claude.js';
import { json, sse, thinkingToolMessage } from '../support/fake-anthropic.js';
import { call, describeMounts, startMount } from '../support/mounts.js';

const fake = useFakeAnthropic();
const MODEL = 'claude-sonnet-4-6';
const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000 } });

/** Thinking counts as output (Anthropic includes it in output_tokens); cache writes split 5 min / 1 h; cache reads. */
const USAGE = {
  input_tokens: 120, output_tokens: 480, cache_read_input_tokens: 2000, cache_creation_input_tokens: 700,
  cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 400 },
};
// Sonnet 4.6 per token in micro-USD: 3 in, 15 out, 3.75 5-min write, 6 1-hour write, 0.3 read.
// 120x3 + 480x15 + 300x3.75 + 400x6 + 2000x0.3 = 360 + 7200 + 1125 + 2400 + 600
const COST = 11_685;
const MEMO = `in=120 out=480 cache_write=700 cache_read=2000`;

const request = {
  model: MODEL, max_tokens: 2048,
  thinking: { type: 'enabled', budget_tokens: 1024 },
  system: [{ type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } } } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?', cache_control: { type: 'ephemeral' } }] }],
  // Fields this server knows nothing about reach Anthropic as they were sent.
  context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
  some_future_field: { a: [1, { b: null }], c: 'ü' },
} as unknown as Anthropic.MessageCreateParamsNonStreaming;

describeMounts('Claude features', options, (m) => {
  const sdk = (key: string) => new Anthropic({ baseURL: m().url, apiKey: key, maxRetries: 0, defaultHeaders: { 'anthropic-beta': 'interleaved-thinking-2025-05-14,context-management-2025-06-27' } });

  it('a non-streamed answer with thinking, text and tool_use comes back unchanged, billed with thinking as output and both cache writes', async () => {
    const { key } = await account(m(), 1_000_000);
    const { message } = thinkingToolMessage(USAGE, MODEL);
    fake.once((_req, res) => json(res, message));
    const got = await sdk(key).messages.create(request).withResponse();
    expect(got.data).toEqual(message);
    expect(got.response.headers.get('x-cost-micro-usd')).toBe(String(COST));
    expect(fake.requests[0]!.body).toEqual(request);
    expect(fake.requests[0]!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,context-management-2025-06-27');
    const { spent, entries } = await claudeSpend(m(), key);
    expect(spent).toBe(COST);
    expect(entries[0].memo).toContain(MEMO);
  });

  it('the same streamed, through messages.stream(): thinking and signature deltas, input_json_delta parsed by the SDK, billed the same', async () => {
    const { key } = await account(m(), 1_000_000);
    const { message, frames } = thinkingToolMessage(USAGE, MODEL);
    fake.once((_req, res) => sse(res, frames));
    const stream = sdk(key).messages.stream(request as unknown as Anthropic.MessageStreamParams);
    const thinking: string[] = [];
    const json: string[] = [];
    stream.on('thinking', (delta) => thinking.push(delta)).on('inputJson', (partial) => json.push(partial));
    const final = await stream.finalMessage();
    expect(final.content).toEqual(message.content);
    expect(final.usage).toEqual(USAGE);
    expect(thinking.join('')).toBe('The user wants the weather; call the tool.');
    expect(json).toEqual(['{"city":"', 'Paris","unit":"celsius"}']);
    expect(fake.requests[0]!.body).toEqual({ ...request, stream: true });
    const { spent, entries } = await settled(m(), key);
    expect(spent).toBe(COST);
    expect(entries[0].memo).toContain(MEMO);
  });

  it('cache writes without the TTL split are billed as 5-minute writes; a 1-hour-only split at the 1-hour price', async () => {
    const { key } = await account(m(), 1_000_000);
    const plain = { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0 };
    fake.once((_req, res) => json(res, thinkingToolMessage(plain, MODEL).message));
    // 10x3 + 20x15 + 1000x3.75 = 30 + 300 + 3750
    expect((await sdk(key).messages.create(request).withResponse()).response.headers.get('x-cost-micro-usd')).toBe('4080');
    const hour = { ...plain, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 1000 } };
    fake.once((_req, res) => sse(res, thinkingToolMessage(hour, MODEL).frames));
    await sdk(key).messages.stream(request as unknown as Anthropic.MessageStreamParams).finalMessage();
    // 30 + 300 + 1000x6
    expect((await settled(m(), key)).spent).toBe(4080 + 6330);
  });
});

it('claude.betas: only the listed anthropic-beta values pass; another is a 400 before any charge or upstream call', async () => {
  const m = await startMount('express5', { parsed: true, prefix: '/ai', options: { freeCallsPerDay: 0, claude: { ...options().claude, betas: ['context-1m-2025-08-07'] } } });
  const fakeRequests = fake.requests;
  try {
    const { key } = await account(m, 1_000_000);
    const body = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };
    const ok = await call(`${m.url}/v1/messages`, { key, body, headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
    expect(ok.status).toBe(200);
    expect(fakeRequests[0]!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const refused = await call(`${m.url}${path}`, { key, body, headers: { 'anthropic-beta': 'context-1m-2025-08-07, mcp-client-2025-04-04' } });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-beta "mcp-client-2025-04-04" is not enabled on this server (allowed: context-1m-2025-08-07)' } });
    }
    expect(fakeRequests).toHaveLength(1);
    expect((await claudeSpend(m, key)).entries.map((e) => e.kind)).toEqual(['settle', 'hold']);
  } finally {
    await m.close();
  }
});
