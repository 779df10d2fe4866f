// GET /metrics as Prometheus scrapes it: parsed by a real parser, and every figure checked against what the calls and the ledger say.
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, OPERATOR_KEY, settled } from '../support/claude.js';
import { message, startFakeAnthropic, streamFrames, type FakeAnthropic } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';

const METRICS_TOKEN = 'a-metrics-token-0123456789';

type Family = { name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }> };

async function scrape(m: Mounted, token = METRICS_TOKEN): Promise<Family[]> {
  const r = await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await r.text()) as Family[];
}

/** The value of one series (0 when the series does not exist yet). */
function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const series = family.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return series?.value === undefined ? 0 : Number(series.value);
}

describe('GET /metrics', () => {
  let fake: FakeAnthropic;
  let m: Mounted;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    m = await startMount('express5', {
      parsed: true, prefix: '/ai',
      options: { metricsToken: METRICS_TOKEN, freeCallsPerDay: 2, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5000 } },
    });
  });
  afterAll(async () => {
    await m?.close();
    await fake?.close();
  });

  it('needs the metrics token or the admin token', async () => {
    expect((await call(`${m.url}/metrics`)).status).toBe(401);
    expect((await call(`${m.url}/metrics`, { key: 'not-the-token-at-all-000' })).status).toBe(401);
    expect((await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    await scrape(m);
  });

  it('counts calls, free calls, debits, credits, 402s, Claude tokens and cost, as the ledger has them', async () => {
    const before = await scrape(m);
    const rich = await account(m, 1_000_000);
    const poor = await account(m);
    const store = (key: string, k: string) => call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: k, data: { n: k } } });
    // 2 free calls, then 2 paid (100 each); the poor account: 2 free calls, then a 402.
    for (const k of ['a', 'b', 'c', 'd']) expect((await store(rich.key, k)).status).toBe(200);
    for (const k of ['a', 'b']) expect((await store(poor.key, k)).status).toBe(200);
    expect((await store(poor.key, 'c')).status).toBe(402);
    // A Claude call and a Claude stream, both paid.
    const ask = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
    const one = await call(`${m.url}/v1/messages`, { body: ask, headers: { 'x-api-key': rich.key } });
    expect(one.status).toBe(200);
    const streamed = await call(`${m.url}/v1/messages`, { body: { ...ask, stream: true }, headers: { 'x-api-key': rich.key } });
    expect(streamed.status).toBe(200);
    // settled() sums debits too: the Claude part is what remains after the two 100 micro-USD store calls.
    const claudeSpent = (await settled(m, rich.key)).spent - 200;

    const after = await scrape(m);
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('aipaygent_http_requests_total', { method: 'POST', route: '/memory/store', status: '200' })).toBe(6);
    expect(delta('aipaygent_http_requests_total', { method: 'POST', route: '/memory/store', status: '402' })).toBe(1);
    expect(delta('aipaygent_http_requests_total', { method: 'POST', route: '/admin/credits', status: '201' })).toBe(1);
    expect(delta('aipaygent_payment_required_total', { route: '/memory/store' })).toBe(1);
    // Free calls: 2 + 2 of the stores; the Claude calls were paid (the rich account's free calls were used).
    expect(delta('aipaygent_free_calls_total')).toBe(4);
    expect(delta('aipaygent_debited_micro_usd_total', { kind: 'call' })).toBe(200);
    expect(delta('aipaygent_credited_micro_usd_total', { kind: 'grant' })).toBe(1_000_000);
    // Claude: what the ledger's holds and settles took, to the micro-USD, and the tokens the fake reported (25 in, 7 out each).
    expect(claudeSpent).toBeGreaterThan(0);
    expect(delta('aipaygent_debited_micro_usd_total', { kind: 'claude' })).toBe(claudeSpent);
    expect(delta('aipaygent_claude_tokens_total', { model: 'claude-sonnet-4-5', kind: 'input' })).toBe(50);
    expect(delta('aipaygent_claude_tokens_total', { model: 'claude-sonnet-4-5', kind: 'output' })).toBe(14);
    expect(delta('aipaygent_claude_requests_total', { model: 'claude-sonnet-4-5', status: '200' })).toBe(2);
    // The ledger of the rich account agrees: grant - debits - Claude = balance.
    const balance = (await call(`${m.url}/credits/balance`, { key: rich.key })).body.balance_micro_usd;
    expect(balance).toBe(1_000_000 - 200 - claudeSpent);
  });

  it('times calls and store operations (histograms), and tracks process figures', async () => {
    const text = await (await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(text).toMatch(/^aipaygent_http_request_duration_seconds_bucket\{method="POST",route="\/memory\/store",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^aipaygent_http_request_duration_seconds_count\{method="POST",route="\/memory\/store"\} \d+$/m);
    expect(text).toMatch(/^aipaygent_store_operation_duration_seconds_count\{op="charge"\} [1-9]\d*$/m);
    expect(text).toMatch(/^aipaygent_process_resident_memory_bytes [1-9]\d*$/m);
    expect(text).toMatch(/^aipaygent_eventloop_delay_max_seconds \d/m);
    // Raw paths never become labels (an attacker cannot grow the series): only route patterns.
    await call(`${m.url}/admin/keys/key_${'x'.repeat(24)}`, { method: 'DELETE', key: ADMIN_TOKEN });
    const again = await (await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(again).toContain('route="/admin/keys/:key_id"');
    expect(again).not.toContain('xxxxxxxx');
  });

  it('shows open streams while they are read', async () => {
    const { key } = await account(m, 1_000_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fake.once(async (req, res) => {
      const frames = streamFrames(message({ model: req.body.model }));
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_open_stream' });
      for (const f of frames.slice(0, 3)) res.write(f);
      await gate;
      for (const f of frames.slice(3)) res.write(f);
      res.end();
    });
    const res = await fetch(`${m.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await expect.poll(async () => value(await scrape(m), 'aipaygent_open_streams')).toBe(1);
    release();
    await res.text();
    await expect.poll(async () => value(await scrape(m), 'aipaygent_open_streams')).toBe(0);
  });
});

describe('/metrics when no token allows it', () => {
  it('is off: 404 naming the options that turn it on', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { adminToken: undefined } });
    try {
      const r = await call(`${m.url}/metrics`);
      expect(r.status).toBe(404);
      expect(r.body.error.message).toMatch(/adminToken or metricsToken/);
    } finally {
      await m.close();
    }
  });
});
