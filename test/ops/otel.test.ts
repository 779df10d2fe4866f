// OpenTelemetry: with openTelemetry on, the host's SDK (here the official sdk-trace-base with an in-memory exporter) receives
// a span per call served and a GenAI client span per Claude call; the logger option takes pino as it is.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, OPERATOR_KEY } from '../support/claude.js';
import { newFaults, faultyStore } from '../support/faulty-store.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { call, startMount, type Mounted } from '../support/mounts.js';

describe('OpenTelemetry spans', () => {
  const exporter = new InMemorySpanExporter();
  let fake: FakeAnthropic;
  let m: Mounted;
  beforeAll(async () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    fake = await startFakeAnthropic();
    m = await startMount('express5', { parsed: true, prefix: '/ai', options: { openTelemetry: true, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0 } } });
  });
  afterAll(async () => {
    await m?.close();
    await fake?.close();
    trace.disable();
  });

  it('reports each call served (route pattern, status) and each Claude call with the GenAI semantic conventions', async () => {
    const { key } = await account(m, 1_000_000);
    expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: 1 } })).status).toBe(200);
    expect((await call(`${m.url}/memory/retrieve?user_id=u&key=nope`, { key })).status).toBe(404);
    const msg = await call(`${m.url}/v1/messages`, { body: { model: 'claude-sonnet-4-5', max_tokens: 99, messages: [{ role: 'user', content: 'hi' }] }, headers: { 'x-api-key': key } });
    expect(msg.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const store = spans.find((s) => s.name === 'POST /memory/store')!;
    expect(store.kind).toBe(SpanKind.INTERNAL);
    expect(store.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/memory/store', 'http.response.status_code': 200 });
    expect(spans.find((s) => s.name === 'GET /memory/retrieve')!.attributes['http.response.status_code']).toBe(404);
    const chat = spans.find((s) => s.name === 'chat claude-sonnet-4-5')!;
    expect(chat.kind).toBe(SpanKind.CLIENT);
    expect(chat.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.request.max_tokens': 99, 'gen_ai.usage.input_tokens': 25, 'gen_ai.usage.output_tokens': 7,
      'gen_ai.response.id': msg.body.id, 'aipaygent.cost_micro_usd': Number(msg.headers.get('x-cost-micro-usd')),
    });
    // Real durations: the span ends after it starts, and no later than now.
    const [s0, s1] = [chat.startTime[0] * 1e3 + chat.startTime[1] / 1e6, chat.endTime[0] * 1e3 + chat.endTime[1] / 1e6];
    expect(s1).toBeGreaterThanOrEqual(s0);
    expect(s1).toBeLessThanOrEqual(Date.now() + 1);
    const v1 = spans.find((s) => s.name === 'POST /v1/messages')!;
    expect(v1.attributes['http.response.status_code']).toBe(200);
  });
});

describe('the logger option', () => {
  it('takes a pino logger as it is: masked faults arrive as structured JSON with the error', async () => {
    const lines: any[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => void (lines.push(JSON.parse(String(chunk))), done()) });
    const faults = newFaults();
    const m = await startMount('core', { parsed: false, prefix: '', options: { store: faultyStore(faults), logger: pino(sink) } });
    try {
      const { api_key } = await m.ai.api.keys.create();
      faults.failMemoryGets = 1;
      const r = await call(`${m.url}/memory/retrieve?user_id=u&key=k`, { key: api_key });
      expect(r.status).toBe(500);
      expect(r.text).not.toContain('injected fault');
      await expect.poll(() => lines.length).toBeGreaterThan(0);
      const logged = lines.find((l) => /unexpected error/.test(l.msg));
      expect(logged).toMatchObject({ level: 50, msg: 'aipaygent: unexpected error' });
      // pino's error serializer ran on `err`: the message and stack are kept for the operator.
      expect(logged.err.message).toBe('injected fault: memory read');
      expect(logged.err.stack).toContain('injected fault');
    } finally {
      await m.close();
    }
  });
});
