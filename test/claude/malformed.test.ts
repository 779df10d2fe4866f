// HTTP: an upstream 2xx that cannot be used (null, not JSON, no usage, a broken event stream) is a 502, never a 500, and frees its hold at once.
import { expect, it } from 'vitest';
import { account, ledger, OPERATOR_KEY, settled, sseEvents, useFakeAnthropic } from '../support/claude.js';
import { message, raw, sse, streamFrames } from '../support/fake-anthropic.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';

const logs: string[] = [];
const fake = useFakeAnthropic(() => void (logs.length = 0));

const MODEL = 'claude-3-5-sonnet-20241022';
const logger = { warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
const options = () => ({ freeCallsPerDay: 0, logger, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 1000 } });
const body = (extra: Record<string, unknown> = {}) => ({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], ...extra });
const SSE = 'text/event-stream; charset=utf-8';

/** Every hold of the account is settled, and its Claude calls cost `spent` in total. */
async function holdsFreed(m: Mounted, key: string, spent: number): Promise<void> {
  const r = await settled(m, key, 2000);
  const holds = r.entries.filter((e) => e.kind === 'hold').length;
  expect(holds).toBeGreaterThan(0);
  expect(r.entries.filter((e) => e.kind === 'settle')).toHaveLength(holds);
  expect(r.spent).toBe(spent);
}

/** The two error shapes of a malformed answer: ours on /claude/message, Anthropic's on /v1/messages. */
function isMalformed502(ours: { status: number; body: any; headers: Headers }, theirs: { status: number; body: any }): void {
  expect(ours.status).toBe(502);
  expect(ours.body).toEqual({ status: 'error', error: { code: 'upstream_error', message: expect.stringMatching(/malformed answer/) } });
  expect(ours.headers.get('x-cost-micro-usd')).toBe('0');
  expect(theirs.status).toBe(502);
  expect(theirs.body).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringMatching(/malformed answer/) } });
}

const MALFORMED_JSON: Array<[string, string]> = [
  ['null', 'null'],
  ['not JSON', 'Service temporarily unavailable'],
  ['a JSON string', '"hello"'],
  ['a JSON array', '[]'],
  ['a Message without usage', JSON.stringify({ ...message(), usage: undefined })],
  ['a Message with usage as text', JSON.stringify({ ...message(), usage: { input_tokens: '25', output_tokens: 7 } })],
  ['a Message without content', JSON.stringify({ ...message(), content: null })],
];

describeMounts('Claude proxy: malformed upstream answers', options, (m) => {
  for (const [what, text] of MALFORMED_JSON) {
    it(`a 200 with ${what} is a 502 upstream_error on both routes, the hold freed at once, nothing charged`, async () => {
      const { key } = await account(m(), 1_000_000);
      fake.setDefault((_req, res) => raw(res, text));
      const ours = await call(`${m().url}/claude/message`, { key, body: body() });
      const theirs = await call(`${m().url}/v1/messages`, { key, body: body() });
      isMalformed502(ours, theirs);
      await holdsFreed(m(), key, 0);
      expect(logs.filter((l) => /unexpected error/.test(l))).toEqual([]);
      expect(logs.filter((l) => /Claude answered 2xx with/.test(l))).toHaveLength(2);
    });
  }

  it('a streamed call whose event stream is empty, or begins with a malformed event, is a 502 before any byte (nothing charged)', async () => {
    const { key } = await account(m(), 1_000_000);
    const starts = ['', 'event: message_start\ndata: null\n\n', 'event: message_start\ndata: {not json\n\n', 'event: message_start\ndata: {"type":"message_start"}\n\n'];
    for (const start of starts) {
      fake.once((_req, res) => raw(res, start, SSE));
      fake.once((_req, res) => raw(res, start, SSE));
      const ours = await call(`${m().url}/claude/message`, { key, body: body({ stream: true }) });
      const theirs = await call(`${m().url}/v1/messages`, { key, body: body({ stream: true }) });
      isMalformed502(ours, theirs);
    }
    await holdsFreed(m(), key, 0);
    expect(logs.filter((l) => /unexpected error/.test(l))).toEqual([]);
  });

  it('a malformed event mid-stream is relayed, then the stream ends with an error event, the upstream is cut and the usage seen is charged', async () => {
    const { key } = await account(m(), 1_000_000);
    const head = streamFrames(message(), ['one', 'two']).slice(0, 5); // start, block start, ping, 2 deltas
    const bad = 'event: message_delta\ndata: null\n\n';
    fake.setDefault((_req, res) => sse(res, [...head, bad, ...streamFrames(message()).slice(3)], 30));
    const r = await call(`${m().url}/claude/message`, { key, body: body({ stream: true }) });
    expect(r.status).toBe(200);
    expect(r.text.startsWith(head.join('') + bad)).toBe(true);
    const events = sseEvents(r.text.slice(head.join('').length + bad.length));
    expect(events[0]).toEqual(['error', { type: 'error', error: { type: 'api_error', message: 'The upstream sent a malformed event; the stream was closed.' } }]);
    // 25 input x $3 + 2 deltas (one token each at least) x $15 per MTok.
    expect(events.at(-1)).toEqual(['comment', 'aipaygent-cost-micro-usd=105']);
    await fake.requests[0]!.closed;
    expect(fake.requests[0]!.aborted).toBe(true);
    await holdsFreed(m(), key, 105);
  });

  it('a stream that ends without message_stop ends with an error event and is charged the final usage it reported', async () => {
    const { key } = await account(m(), 1_000_000);
    const frames = streamFrames(message({ usage: { input_tokens: 25, output_tokens: 7 } }), ['a', 'b']);
    fake.setDefault((_req, res) => sse(res, frames.slice(0, -1)));
    const r = await call(`${m().url}/v1/messages`, { key, body: body({ stream: true }) });
    expect(r.status).toBe(200);
    const events = sseEvents(r.text);
    expect(events.at(-2)).toEqual(['error', { type: 'error', error: { type: 'api_error', message: 'The upstream stream ended unexpectedly.' } }]);
    expect(events.at(-1)).toEqual(['comment', 'aipaygent-cost-micro-usd=180']);
    await holdsFreed(m(), key, 180);
  });

  it('a malformed answer inside the memory tool loop is the same 502, every hold freed', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => raw(res, 'null'));
    const r = await call(`${m().url}/claude/message`, {
      key, body: body({ tools: [{ type: 'memory_20250818', name: 'memory' }], memory: { user_id: 'u' } }),
    });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('upstream_error');
    await holdsFreed(m(), key, 0);
    expect((await ledger(m(), key)).length).toBeGreaterThan(0);
  });
});
