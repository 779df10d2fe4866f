// A local fake of Anthropic's Messages API (node:http), scriptable per test: JSON, SSE framing, errors, aborts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. `aborted` turns true if the caller went away before the answer ended. */
export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  aborted: boolean;
  /** Resolves when the connection of this request closed (answer finished or aborted). */
  closed: Promise<void>;
}

export type FakeHandler = (req: FakeRequest, res: ServerResponse) => void | Promise<void>;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

export interface FakeAnthropic {
  url: string;
  requests: FakeRequest[];
  /** Answers the next request with `handler` (queued, first in first out), then falls back to the default. */
  once(handler: FakeHandler): void;
  /** Replaces the default handler (initially: `json(res, message())`). */
  setDefault(handler: FakeHandler): void;
  reset(): void;
  close(): Promise<void>;
}

let seq = 0;

/** A Message as the Messages API returns it. */
export function message(opts: { text?: string; model?: string; usage?: Partial<Usage>; stopReason?: string } = {}): Record<string, unknown> {
  seq++;
  return {
    id: `msg_fake${String(seq).padStart(6, '0')}`,
    type: 'message',
    role: 'assistant',
    model: opts.model ?? 'claude-3-5-sonnet-20241022',
    content: [{ type: 'text', text: opts.text ?? 'Hello from the fake Claude.' }],
    stop_reason: opts.stopReason ?? 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 25, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...opts.usage },
  };
}

/** One SSE frame exactly as Anthropic frames it: an `event:` line, a `data:` line, a blank line. */
export const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * The frames of a streamed Message: message_start (input usage, output 1), a text block whose text
 * arrives in `pieces`, a ping, message_delta with the cumulative usage, message_stop.
 */
export function streamFrames(msg: Record<string, any>, pieces: string[] = [msg.content[0].text]): string[] {
  const usage = msg.usage as Usage;
  const start = { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } };
  return [
    frame('message_start', { type: 'message_start', message: start }),
    frame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    frame('ping', { type: 'ping' }),
    ...pieces.map((text) => frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
    frame('content_block_stop', { type: 'content_block_stop', index: 0 }),
    frame('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage }),
    frame('message_stop', { type: 'message_stop' }),
  ];
}

/**
 * Headers Anthropic sends with every answer: its rate limits (relayed to clients), and the operator's
 * organization id (withheld).
 */
export const UPSTREAM_HEADERS: Readonly<Record<string, string>> = {
  'anthropic-ratelimit-requests-limit': '4000',
  'anthropic-ratelimit-requests-remaining': '3999',
  'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01Z',
  'anthropic-ratelimit-input-tokens-limit': '400000',
  'anthropic-ratelimit-input-tokens-remaining': '399975',
  'anthropic-ratelimit-output-tokens-limit': '80000',
  'anthropic-organization-id': 'org-operator-secret-0001',
};

export function json(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake${++seq}`, ...UPSTREAM_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

/** Any body as is (a malformed answer: `null`, not JSON, SSE that breaks its framing...). */
export function raw(res: ServerResponse, text: string, contentType = 'application/json', status = 200): void {
  res.writeHead(status, { 'content-type': contentType, 'request-id': `req_fake${++seq}` });
  res.end(text);
}

/** Anthropic's error envelope. */
export function error(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  json(res, { type: 'error', error: { type, message }, request_id: `req_fake${seq}` }, status, headers);
}

/** Writes SSE frames, `delayMs` apart; stops writing when the caller is gone. */
export async function sse(res: ServerResponse, frames: string[], delayMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_fake${++seq}`, ...UPSTREAM_HEADERS });
  for (const f of frames) {
    if (res.destroyed) return;
    res.write(f);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  res.end();
}

/** What the fake's count_tokens answers: a deterministic count of the request's JSON (4 characters a token). */
export const countOf = (body: Record<string, unknown>): number =>
  Math.ceil(JSON.stringify([body.system ?? null, body.messages ?? null, body.tools ?? null]).length / 4);

/** Anthropic's 429 / 529 with `retry-after` and its rate-limit headers. */
export function limited(res: ServerResponse, status: 429 | 529, retryAfter = '7'): void {
  error(res, status, status === 429 ? 'rate_limit_error' : 'overloaded_error', status === 429 ? 'Number of requests has exceeded your rate limit' : 'Overloaded', {
    'retry-after': retryAfter, 'anthropic-ratelimit-requests-remaining': '0',
  });
}

/**
 * A Message with a thinking block, text, and a tool_use block; `streamed` gives the frames Anthropic
 * sends for it: thinking_delta and signature_delta, text_delta, input_json_delta in pieces.
 */
export function thinkingToolMessage(usage: Partial<Usage>, model = 'claude-sonnet-4-5'): { message: Record<string, any>; frames: string[] } {
  const msg = message({ model, usage, stopReason: 'tool_use' });
  const input = { city: 'Paris', unit: 'celsius' };
  msg.content = [
    { type: 'thinking', thinking: 'The user wants the weather; call the tool.', signature: 'sig_fake_0001' },
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'toolu_fake0001', name: 'get_weather', input },
  ];
  const u = msg.usage as Usage;
  const json = JSON.stringify(input);
  const delta = (index: number, d: Record<string, unknown>) => frame('content_block_delta', { type: 'content_block_delta', index, delta: d });
  const block = (index: number, content_block: Record<string, unknown>) => frame('content_block_start', { type: 'content_block_start', index, content_block });
  const stop = (index: number) => frame('content_block_stop', { type: 'content_block_stop', index });
  const frames = [
    frame('message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null, usage: { ...u, output_tokens: 1 } } }),
    block(0, { type: 'thinking', thinking: '', signature: '' }),
    delta(0, { type: 'thinking_delta', thinking: 'The user wants the weather; ' }),
    delta(0, { type: 'thinking_delta', thinking: 'call the tool.' }),
    delta(0, { type: 'signature_delta', signature: 'sig_fake_0001' }),
    stop(0),
    block(1, { type: 'text', text: '' }),
    delta(1, { type: 'text_delta', text: 'Let me check.' }),
    stop(1),
    block(2, { type: 'tool_use', id: 'toolu_fake0001', name: 'get_weather', input: {} }),
    delta(2, { type: 'input_json_delta', partial_json: json.slice(0, 9) }),
    delta(2, { type: 'input_json_delta', partial_json: json.slice(9) }),
    stop(2),
    frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: u }),
    frame('message_stop', { type: 'message_stop' }),
  ];
  return { message: msg, frames };
}

/** Anthropic's model list of a few models (the shape our /v1/models follows). */
export const FAKE_MODELS = ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'].map((id) => ({
  type: 'model', id, display_name: id, created_at: '2025-10-01T00:00:00Z',
}));

/** The usual answer to a request: a streamed or JSON Message as the request asked, a token count, the model list. */
export function answer(req: FakeRequest, res: ServerResponse, msg = message({ model: req.body?.model })): Promise<void> | void {
  if (req.path === '/v1/messages/count_tokens') return json(res, { input_tokens: countOf(req.body) });
  if (req.path.startsWith('/v1/models')) {
    return json(res, { data: FAKE_MODELS, has_more: false, first_id: FAKE_MODELS[0]!.id, last_id: FAKE_MODELS.at(-1)!.id });
  }
  if (req.body?.stream === true) return sse(res, streamFrames(msg, ['Hello', ' from', ' the', ' fake', ' Claude.']));
  json(res, msg);
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: FakeRequest[] = [];
  const queue: FakeHandler[] = [];
  let fallback: FakeHandler = answer;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      let onClose!: () => void;
      const record: FakeRequest = {
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, aborted: false,
        closed: new Promise<void>((r) => (onClose = r)),
      };
      requests.push(record);
      res.on('close', () => {
        if (!res.writableFinished) record.aborted = true;
        onClose();
      });
      const handler = queue.shift() ?? fallback;
      Promise.resolve(handler(record, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    once: (h) => void queue.push(h),
    setDefault: (h) => void (fallback = h),
    reset() {
      queue.length = 0;
      requests.length = 0;
      fallback = answer;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
