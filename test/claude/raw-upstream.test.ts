// The raw first attempt: the SDK's own headers, the SDK's retries after it, timeouts, aborts, a base URL with a path.
import { afterEach, expect, it } from 'vitest';
import { Upstream } from '../../src/claude/upstream.js';
import { createRedactor } from '../../src/redact.js';
import { OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { error, json, message } from '../support/fake-anthropic.js';

const fake = useFakeAnthropic();
const logger = { warn: () => {}, error: () => {} };
const open: Upstream[] = [];
afterEach(() => {
  for (const u of open.splice(0)) u.close();
});
const upstream = (over: { baseURL?: string; maxRetries?: number; timeoutMs?: number } = {}) => {
  const u = new Upstream({ apiKey: OPERATOR_KEY, baseURL: fake.url, timeoutMs: 2000, maxRetries: 0, ...over }, logger, createRedactor([OPERATOR_KEY]));
  open.push(u);
  return u;
};
const body = { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] };
const signal = () => new AbortController().signal;

it('sends the headers the SDK sends (the retry is the SDK itself), and the SDK retries what it would retry', async () => {
  fake.once((_req, res) => error(res, 529, 'overloaded_error', 'Overloaded', { 'retry-after-ms': '5' }));
  fake.once((_req, res) => error(res, 503, 'api_error', 'Unavailable', { 'retry-after-ms': '5' }));
  const sent = await upstream({ maxRetries: 2 }).send(body, signal(), { beta: 'b1', version: '2099-01-01' });
  expect(sent).toMatchObject({ ok: true, status: 200, requestId: expect.stringMatching(/^req_fake/) });
  expect(fake.requests).toHaveLength(3);
  const [raw, sdk] = fake.requests.map((r) => r.headers);
  const names = (h: typeof raw) => Object.keys(h!).filter((n) => !['x-stainless-retry-count', 'content-length', 'connection', 'host'].includes(n)).sort();
  expect(names(raw)).toEqual(names(sdk));
  for (const h of [raw!, sdk!]) {
    expect(h['anthropic-version']).toBe('2099-01-01');
    expect(h['anthropic-beta']).toBe('b1');
    expect(h['x-api-key'] ?? h.authorization).toContain(OPERATOR_KEY);
    expect(h['user-agent']).toBe(raw!['user-agent']);
  }
  expect(fake.requests.map((r) => r.body)).toEqual([body, body, body]);
});

it('a status the SDK would not retry is told at once, as the SDK tells it (type, message scrubbed, headers)', async () => {
  fake.once((_req, res) => error(res, 400, 'invalid_request_error', `bad key ${OPERATOR_KEY}`, { 'retry-after': '3' }));
  const sent = await upstream({ maxRetries: 2 }).send(body, signal(), {});
  expect(sent).toMatchObject({ ok: false, failure: { kind: 'status', status: 400, type: 'invalid_request_error', retryAfter: '3', requestId: expect.stringMatching(/^req_fake/) } });
  expect(JSON.stringify(sent)).not.toContain(OPERATOR_KEY);
  expect(fake.requests).toHaveLength(1);
});

it('times out, is aborted, finds nothing to connect to; keeps the path of a base URL', async () => {
  fake.once(() => {}); // never answers
  expect(await upstream({ timeoutMs: 150 }).send(body, signal(), {})).toEqual({ ok: false, failure: { kind: 'timeout' } });
  fake.once(() => {});
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  expect(await upstream().send(body, ac.signal, {})).toEqual({ ok: false, failure: { kind: 'aborted' } });
  expect(await upstream({ baseURL: 'http://127.0.0.1:1' }).send(body, signal(), {})).toEqual({ ok: false, failure: { kind: 'unreachable' } });
  fake.once((req, res) => json(res, message({ model: req.body.model })));
  expect(await upstream({ baseURL: `${fake.url}/anthropic/` }).send(body, signal(), {}, '/v1/messages/count_tokens')).toMatchObject({ ok: true, status: 200 });
  expect(fake.requests.at(-1)!.path).toBe('/anthropic/v1/messages/count_tokens');
});
