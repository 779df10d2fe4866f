// The Prometheus metrics of GET /metrics, fed by the event port: calls, latency, the store, money, 402s, Claude tokens, streams.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AipaygentEvent, Events } from './events.js';
import { Counter, Gauge, Histogram, Registry, type HistogramState } from './prometheus.js';

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STORE_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Ledger kinds that add money to an account. */
const CREDIT_KINDS = new Set(['grant', 'purchase', 'refund']);

export interface Metrics {
  /** The text exposition of every metric of this process. */
  render(): string;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

/** Subscribes the metrics to `events`; each process keeps and exposes its own (Prometheus sums them across processes). */
export function createMetrics(events: Events): Metrics {
  const r = new Registry();
  const requests = r.add(new Counter('aipaygent_http_requests_total', 'Calls answered by aipaygent, by method, route pattern and status.', ['method', 'route', 'status']));
  const latency = r.add(new Histogram('aipaygent_http_request_duration_seconds', 'Time to answer a call (a stream: to its headers).', ['method', 'route'], SECONDS));
  const storeLatency = r.add(new Histogram('aipaygent_store_operation_duration_seconds', 'Time of one store operation.', ['op'], STORE_SECONDS));
  const storeErrors = r.add(new Counter('aipaygent_store_errors_total', 'Store operations that failed or timed out (each answered 503).', ['op']));
  const freeCalls = r.add(new Counter('aipaygent_free_calls_total', 'Free calls taken (net of those given back when a call failed).'));
  const debited = r.add(new Counter('aipaygent_debited_micro_usd_total', 'micro-USD taken from balances: per-call debits, and Claude usage (a hold settled).', ['kind']));
  const credited = r.add(new Counter('aipaygent_credited_micro_usd_total', 'micro-USD added to balances: grants, purchases (USDC and x402), refunds.', ['kind']));
  const unpaid = r.add(new Counter('aipaygent_payment_required_total', 'Calls answered 402 payment_required.', ['route']));
  const claudeCalls = r.add(new Counter('aipaygent_claude_requests_total', 'Upstream Claude calls, by model and the status answered.', ['model', 'status']));
  const tokens = r.add(new Counter('aipaygent_claude_tokens_total', 'Claude tokens billed, by model and kind (input, output, cache_read, cache_write_5m, cache_write_1h).', ['model', 'kind']));
  const webhooks = r.add(new Counter('aipaygent_webhook_deliveries_total', 'Webhook delivery attempts, by event type and outcome (delivered, retried, failed).', ['event', 'outcome']));
  const embeddings = r.add(new Counter('aipaygent_embeddings_total', 'Memory texts embedded in the background, by outcome (embedded, retried, failed, dropped).', ['outcome']));
  const streams = r.add(new Gauge('aipaygent_open_streams', 'Streamed answers being read right now (Claude streams, exports).'));
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  r.add(new Gauge('aipaygent_process_resident_memory_bytes', 'Resident set size of this process.', [], () => process.memoryUsage.rss()));
  r.add(new Gauge('aipaygent_process_heap_used_bytes', 'V8 heap in use.', [], () => process.memoryUsage().heapUsed));
  r.add(new Gauge('aipaygent_eventloop_delay_max_seconds', 'Largest event-loop delay since the previous scrape.', [], () => {
    const max = loop.max / 1e9;
    loop.reset();
    return max;
  }));

  const served = new Map<string, { count: { n: number }; time: HistogramState }>();
  const on = (e: AipaygentEvent): void => {
    switch (e.type) {
      case 'request': {
        // Series kept per (method, route, status): one Map read per call instead of building label keys.
        const id = `${e.method} ${e.route} ${e.status}`;
        let s = served.get(id);
        if (!s) served.set(id, (s = { count: requests.series([e.method, e.route, String(e.status)]), time: latency.series([e.method, e.route]) }));
        s.count.n++;
        latency.observeIn(s.time, e.durationMs / 1000);
        if (e.status === 402) unpaid.inc([e.route]);
        return;
      }
      case 'store':
        storeLatency.observe([e.op], e.durationMs / 1000);
        if (!e.ok) storeErrors.inc([e.op]);
        return;
      case 'money':
        if (!('amount' in e)) freeCalls.inc([], e.kind === 'free_call' ? 1 : -1);
        // Claude's hold and settle net out to the call's cost, which its own event carries.
        else if (e.kind === 'debit') debited.inc(['call'], -e.amount);
        else if (CREDIT_KINDS.has(e.kind) && e.amount > 0) credited.inc([e.kind], e.amount);
        return;
      case 'claude':
        claudeCalls.inc([e.model, String(e.status)]);
        if (e.costMicroUsd > 0) debited.inc(['claude'], e.costMicroUsd);
        for (const [kind, n] of [['input', e.tokens.input], ['output', e.tokens.output], ['cache_read', e.tokens.cacheRead],
          ['cache_write_5m', e.tokens.cacheWrite5m], ['cache_write_1h', e.tokens.cacheWrite1h]] as const) {
          if (n > 0) tokens.inc([e.model, kind], n);
        }
        return;
      case 'stream':
        streams.add([], e.delta);
        return;
      case 'embedding':
        embeddings.inc([e.outcome], e.count);
        break;
      case 'webhook':
        webhooks.inc([e.event, e.outcome], 1);
        return;
    }
  };
  events.subscribe(on);
  return { render: () => r.render(), close: () => loop.disable() };
}
