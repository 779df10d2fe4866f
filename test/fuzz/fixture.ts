// What the fuzz suite runs against: a real mount with Claude (fake upstream) and payments (fake RPC), funded accounts, and a sender.
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AipaygentOptions } from '../../src/config.js';
import { reply, text, toolUse, turn } from '../claude-memory/support.js';
import { error as upstreamError, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, call, startMount, type Mounted, type MountKind } from '../support/mounts.js';
import { expandPlaceholders, rawBody } from './hostile.js';
import type { Credential, FuzzCase, Operation, Upstream } from './request-arbitrary.js';

export const OPERATOR_KEY = 'sk-ant-operator-secret-fuzz-0123456789';
export const FACILITATOR_SECRET = 'facilitator-secret-fuzz-9876543210';

/** A JSON-RPC node that knows no transaction: chain 8453, block 100, every receipt and transaction unknown. */
async function startFakeRpc(): Promise<{ url: string; close(): Promise<void> }> {
  const answers: Record<string, unknown> = { eth_chainId: '0x2105', eth_blockNumber: '0x64', eth_getTransactionReceipt: null, eth_getTransactionByHash: null };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      let sent: any;
      try {
        sent = JSON.parse(raw);
      } catch {
        sent = {};
      }
      const one = (m: any) => (m.method in answers ? { jsonrpc: '2.0', id: m.id, result: answers[m.method] } : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no such method' } });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(sent) ? sent.map(one) : one(sent)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

export interface LogLine {
  level: 'warn' | 'error';
  text: string;
}

/** The answer as received: status, headers (lower-case names), the body as text. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** What earlier answers returned, filled into `$$NAME$$` placeholders of later requests. */
interface Harvest {
  etag: string;
  cursor: string;
  ledgerCursor: string;
  keyId: string;
  version: number;
  idem: string;
}

export interface Target {
  mounted: Mounted;
  funded: { key: string; account: string };
  /** Every secret of the configuration: none may reach an answer or a log line. */
  secrets: string[];
  logs: LogLine[];
  /** What the memory tool answered the model (tool_result blocks sent upstream), in order. */
  toolResults: string[];
  /** Renders `c` (placeholders filled in), sends it, and returns the request as sent (for echo checks) and the answer. */
  send(op: Operation, c: FuzzCase): Promise<{ sent: string; answer: Answer }>;
  close(): Promise<void>;
}

/** Starts `kind` on a store (`backend` options) with every feature on, and accounts to call it with. */
export async function startTarget(kind: MountKind, parsed: boolean, backend: AipaygentOptions = {}): Promise<Target> {
  const fake = await startFakeAnthropic();
  const rpc = await startFakeRpc();
  const logs: LogLine[] = [];
  const toolResults: string[] = [];
  const log = (level: LogLine['level']) => (message: string, detail?: unknown) =>
    void logs.push({ level, text: `${message} ${detail instanceof Error ? `${detail.message}\n${detail.stack}` : JSON.stringify(detail) ?? ''}` });
  const options: AipaygentOptions = {
    ...backend, adminToken: ADMIN_TOKEN, freeCallsPerDay: 2, logger: { warn: log('warn'), error: log('error') },
    claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5000 },
    payments: { receiver: `0x${'11'.repeat(20)}`, rpcUrl: rpc.url, usdcAddress: `0x${'22'.repeat(20)}`, x402: { facilitatorUrl: rpc.url, facilitatorHeaders: { authorization: FACILITATOR_SECRET } } },
  };
  const mounted = await startMount(kind, { parsed, prefix: parsed ? '/ai' : '', options });
  const admin = (path: string, body: unknown) => call(`${mounted.url}${path}`, { key: ADMIN_TOKEN, body });
  const created = async () => (await admin('/admin/keys', {})).body as { api_key: string; account_id: string; key_id: string };
  const funded = await created();
  await admin('/admin/credits', { account_id: funded.account_id, amount_micro_usd: 100_000_000, reason: 'fuzz' });
  const broke = await created();
  const revoked = await created();
  await call(`${mounted.url}/admin/keys/${revoked.key_id}`, { method: 'DELETE', key: ADMIN_TOKEN });
  const sacrificial = await created();
  for (const [user, key] of [['u1', 'k1'], ['u1', 'k2'], ['u2', 'k1']]) {
    await call(`${mounted.url}/memory/store`, { key: funded.api_key, body: { user_id: user, key, data: { messages: ['seed'], n: 1 } } });
  }

  let upstream: Upstream = { kind: 'ok' };
  fake.setDefault((req, res) => {
    const tools = JSON.stringify(req.body?.tools ?? []);
    const last = JSON.stringify(req.body?.messages?.at?.(-1) ?? '');
    if (last.includes('tool_result')) toolResults.push(last);
    if (upstream.kind === 'error-echoing-secret') return upstreamError(res, 400, 'invalid_request_error', `invalid x-api-key ${OPERATOR_KEY} (admin ${ADMIN_TOKEN})`);
    if (upstream.kind === 'tool' && tools.includes('memory_20250818') && !last.includes('tool_result')) return reply(req, res, turn([text('Checking.'), toolUse(upstream.input as Record<string, unknown>)]));
    return reply(req, res, turn([text('Done.')]));
  });

  const harvest: Harvest = { etag: 'none', cursor: 'none', ledgerCursor: 'none', keyId: sacrificial.key_id, version: 1, idem: 'fixed-1' };
  const fill = (s: string) =>
    s.replaceAll('$$ETAG$$', harvest.etag).replaceAll('$$CURSOR$$', harvest.cursor).replaceAll('$$LEDGER_CURSOR$$', harvest.ledgerCursor)
      .replaceAll('$$ACCOUNT$$', funded.account_id).replaceAll('$$KEY_ID$$', harvest.keyId).replaceAll('$$IDEM$$', harvest.idem)
      .replaceAll('"$$N:VERSION$$"', String(harvest.version)).replaceAll('$$N:VERSION$$', String(harvest.version));
  const credentials: Record<Credential, (op: Operation) => Record<string, string>> = {
    right: (op) => (op.auth === 'key' ? bearer(funded.api_key) : op.auth === 'none' ? {} : bearer(ADMIN_TOKEN)),
    none: () => ({}),
    'empty-bearer': () => ({ authorization: 'Bearer ' }),
    'unknown-key': () => bearer(`${funded.api_key.slice(0, -4)}AAAA`),
    basic: () => ({ authorization: `Basic ${Buffer.from(`x:${funded.api_key}`).toString('base64')}` }),
    'wrong-kind': (op) => (op.auth === 'key' ? bearer(ADMIN_TOKEN) : bearer(funded.api_key)),
    revoked: () => bearer(revoked.api_key),
    broke: () => bearer(broke.api_key),
    'x-api-key': () => ({ 'x-api-key': funded.api_key }),
    'lowercase-scheme': () => ({ authorization: `bearer ${funded.api_key}` }),
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  async function send(op: Operation, c: FuzzCase): Promise<{ sent: string; answer: Answer }> {
    upstream = c.upstream;
    let path = op.path;
    // Capped like query values: past Node's 16 KiB of head, Node answers 431 itself.
    op.pathParams.forEach((name, i) => (path = path.replace(`:${name}`, encodeParam(fill(c.params[i]!).slice(0, 2000)))));
    const query = renderQuery(c, fill);
    const headers: Record<string, string> = { ...credentials[c.credential](op) };
    for (const [name, value] of c.headers) headers[name] = fill(value);
    if (headers['idempotency-key']) harvest.idem = headers['idempotency-key'];
    let body: Buffer | undefined;
    if (c.body) {
      const json = c.body.lines ? c.body.lines.join('\n') : c.body.value === undefined ? '' : JSON.stringify(c.body.value);
      body = rawBody(expandPlaceholders(fill(json)), c.body.raw, c.body.pick);
      let type = c.body.contentType;
      // express.json() answers these itself (its own 400/415 page) before aipaygent sees them: sent as text, they reach our reader.
      if (parsed && type && hostParserRefuses(type, body)) type = 'text/plain';
      if (type) headers['content-type'] = type;
      // Node's client sends a GET's body without framing unless told its length: always framed here.
      if (c.body.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = String(body.length);
    }
    const url = `${mounted.prefix}${path}${query ? `?${query}` : ''}`;
    const answer = await exchange(mounted, agent, op.method, url, headers, body);
    learn(op, answer, harvest);
    const sentHeaders = Object.entries(headers).filter(([k]) => k !== 'authorization' && k !== 'x-api-key');
    return { sent: `${op.method} ${url}\n${sentHeaders.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body?.toString('utf8') ?? ''}`, answer };
  }

  return {
    mounted, funded: { key: funded.api_key, account: funded.account_id }, secrets: secretsOf(backend), logs, toolResults, send,
    async close() {
      agent.destroy();
      await mounted.close();
      await fake.close();
      await rpc.close();
    },
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The configured secrets, the store's connection string, and the values of secret-looking environment variables. */
function secretsOf(backend: AipaygentOptions): string[] {
  const env = Object.entries(process.env).filter(([k, v]) => /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(k) && v && v.length >= 8).map(([, v]) => v!);
  return [ADMIN_TOKEN, OPERATOR_KEY, FACILITATOR_SECRET, ...(typeof backend.store === 'string' ? [backend.store] : []), ...env];
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) is sent as its CESU-8 bytes: not UTF-8, as a client could. */
function pct(s: string): string {
  return s.replace(/[\ud800-\udfff]|[^\ud800-\udfff]+/gu, (part) => {
    if (part.isWellFormed()) return encodeURIComponent(part);
    const u = part.charCodeAt(0);
    return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
  });
}

/** Path parameters: percent-encoded, unless the value already is (a hint such as "%ZZ" or "..%2F"); always one segment. */
const encodeParam = (v: string) => (/%/.test(v) ? v.replace(/[^\x21-\x7e]|[/?#]/gu, pct) : pct(v));

/** Values as text: strings as they are (placeholders expanded), anything else as JSON; capped so the request line stays within Node's header limit. */
function queryValue(v: unknown, fill: (s: string) => string): string {
  const s = typeof v === 'string' ? fill(v).replace(/^\$\$N:(.*)\$\$$/s, '$1') : expandPlaceholders(fill(JSON.stringify(v) ?? 'undefined'));
  return s.length > 2000 ? s.slice(0, 2000) : s;
}

function renderQuery(c: FuzzCase, fill: (s: string) => string): string {
  const pairs = c.query.map(([k, v]) => [k, queryValue(v, fill)] as [string, string]);
  if (c.queryStyle.repeat !== null && pairs.length) pairs.push(pairs[c.queryStyle.repeat % pairs.length]!);
  const enc = {
    standard: pct,
    upper: (s: string) => pct(s).replace(/[a-z]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`),
    // Only what Node's client refuses to send is escaped: a "%" stays raw (a broken escape), and so do "&", "=" and "+".
    raw: (s: string) => s.replace(/[^\x21-\x7e]/gu, pct),
    plus: (s: string) => (s.isWellFormed() ? new URLSearchParams([['', s]]).toString().slice(1) : pct(s)),
  }[c.queryStyle.encoding];
  // The whole query is capped too: with a 9 KB If-Match it must stay within Node's 16 KiB of head (else Node's own 431).
  return (pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') + (c.queryStyle.junk ?? '')).slice(0, 4000);
}

/** What express.json() refuses on its own: a charset it cannot decode, JSON it cannot parse, or (strict) a top level that is not an object or array. */
export function hostParserRefuses(contentType: string, body: Buffer): boolean {
  const [type, ...params] = contentType.split(';');
  if (type!.trim().toLowerCase() !== 'application/json' || body.length === 0) return false;
  const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='))?.slice(8);
  if (charset !== undefined && charset !== 'utf-8') return true;
  const text = body.toString('utf8').replace(/^\ufeff/, '');
  if (!/^[\x20\x09\x0a\x0d]*[{[]/.test(text)) return true;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** One request over node:http (any method may carry a body; headers as given), answered within 10 s or a stall. */
function exchange(m: Mounted, agent: Agent, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Answer> {
  const { port } = m.server.address() as AddressInfo;
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer within 10 s (a stalled call): ${method} ${path.slice(0, 200)}`)));
    req.on('error', reject);
    if (body && headers['transfer-encoding']) req.write(body);
    req.end(headers['transfer-encoding'] ? undefined : body);
  });
}

/** Keeps what later requests refer to: the last ETag, version, cursors, and a key id the fuzzer made (never the funded key's). */
function learn(op: Operation, a: Answer, h: Harvest): void {
  if (a.headers.etag) h.etag = a.headers.etag.replace(/^W\//, '').replaceAll('"', '');
  if (a.status >= 300 || !String(a.headers['content-type']).includes('json')) return;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return;
  }
  if (Number.isSafeInteger(body.version)) h.version = body.version;
  if (typeof body.next_cursor === 'string') op.path === '/credits/ledger' ? (h.ledgerCursor = body.next_cursor) : (h.cursor = body.next_cursor);
  if (op.path === '/admin/keys' && op.method === 'POST' && typeof body.key_id === 'string') h.keyId = body.key_id;
}
