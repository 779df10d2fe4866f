// HTTP: the operator's key quoted by the upstream (whole, URL-encoded, in part) never reaches a client or a log line.
import { expect, it } from 'vitest';
import { account, OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { error, frame, message, sse, streamFrames } from '../support/fake-anthropic.js';
import { call, describeMounts } from '../support/mounts.js';

const logs: unknown[][] = [];
const fake = useFakeAnthropic(() => void (logs.length = 0));

const MODEL = 'claude-3-5-sonnet-20241022';
const logger = { warn: (...a: unknown[]) => void logs.push(a), error: (...a: unknown[]) => void logs.push(a) };
const options = () => ({ freeCallsPerDay: 0, logger, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000 } });
const body = (extra: Record<string, unknown> = {}) => ({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], ...extra });
/** The key as upstreams quote it: whole, URL-encoded inside a URL, and cut short in quotes. */
const QUOTED = `key ${OPERATOR_KEY}, url https://x/?k=${encodeURIComponent(OPERATOR_KEY)}, hint "${OPERATOR_KEY.slice(0, 18)}…"`;

/** No piece of the key (12 characters or more) anywhere in `text`. */
function clean(text: string): void {
  for (let i = 0; i + 12 <= OPERATOR_KEY.length; i++) expect(text).not.toContain(OPERATOR_KEY.slice(i, i + 12));
}
const logText = () => JSON.stringify(logs, (_k, v) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v));

describeMounts('Claude proxy: secrets in upstream messages', options, (m) => {
  it('an upstream 400 quoting the operator key reaches the client scrubbed, on both routes (the rest of the message kept)', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 400, 'invalid_request_error', `messages: bad request (${QUOTED})`));
    for (const route of ['/claude/message', '/v1/messages']) {
      const r = await call(`${m().url}${route}`, { key, body: body() });
      expect(r.status).toBe(400);
      clean(r.text);
      expect(r.text).toContain('messages: bad request (key [REDACTED], url https://x/?k=[REDACTED], hint \\"[REDACTED]…\\")');
    }
  });

  it('an upstream 401 quoting the key is logged for the operator, scrubbed (message and detail), and masked for the client', async () => {
    const { key } = await account(m(), 1_000_000);
    fake.setDefault((_req, res) => error(res, 401, 'authentication_error', `invalid x-api-key: ${QUOTED}`));
    const r = await call(`${m().url}/v1/messages`, { key, body: body() });
    expect(r.status).toBe(502);
    clean(r.text);
    expect(logs.length).toBeGreaterThan(0);
    expect(logText()).toContain('invalid x-api-key: key [REDACTED]');
    clean(logText());
  });

  it('an error event of a stream quoting the key is relayed scrubbed', async () => {
    const { key } = await account(m(), 1_000_000);
    const head = streamFrames(message(), ['one']).slice(0, 4);
    fake.setDefault((_req, res) => sse(res, [...head, frame('error', { type: 'error', error: { type: 'overloaded_error', message: `Overloaded (${QUOTED})` } })]));
    const r = await call(`${m().url}/claude/message`, { key, body: body({ stream: true }) });
    expect(r.status).toBe(200);
    expect(r.text).toContain('Overloaded (key [REDACTED]');
    clean(r.text);
  });
});
