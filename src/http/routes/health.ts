// Operations: /healthz (the process answers), /readyz (the store answers in time; not while starting or shutting down), /metrics.
import { z } from 'zod';
import { PROMETHEUS_CONTENT_TYPE } from '../../observe/prometheus.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

/** Whether this instance can serve: started, not shutting down, and its store answered a probe within its timeout. */
export type Readiness = { ready: true; backend: string; latencyMs: number } | { ready: false; reason: string };

export interface HealthDeps {
  readiness(): Promise<Readiness>;
  /** The Prometheus text; undefined when metrics are off. */
  metrics: (() => string) | undefined;
}

const Healthy = z.object({ status: z.literal('ok') });
const Ready = z.object({
  status: z.literal('ok'),
  store: z.object({ backend: z.string().describe('memory, keyv, redis, postgres or sqlite'), latency_ms: z.number().describe('Time the probe took') }),
});

export function healthRoutes(deps: HealthDeps): Route[] {
  const routes: Route[] = [
    route({
      method: 'GET', path: '/healthz', auth: 'none', metered: false, tags: ['Operations'],
      summary: 'Liveness: the process answers. Never touches the store (a store outage must not get the process restarted).',
      responses: { 200: ok('The process is up', Healthy) },
      async handle() {
        return json(200, { status: 'ok' });
      },
    }),
    route({
      method: 'GET', path: '/readyz', auth: 'none', metered: false, tags: ['Operations'],
      summary: 'Readiness: started, not shutting down, and the store answered a probe within storeTimeoutMs; else 503.',
      responses: { 200: ok('Ready to serve', Ready) },
      errors: ['store_unavailable'],
      async handle() {
        const r = await deps.readiness();
        // Answered, not thrown: an orchestrator probes every few seconds, and "not ready" is news for it, not a fault to log.
        if (!r.ready) return json(503, { status: 'error', error: { code: 'store_unavailable', message: `Not ready: ${r.reason}.` } }, { 'retry-after': '1' });
        return json(200, { status: 'ok', store: { backend: r.backend, latency_ms: Math.round(r.latencyMs * 1000) / 1000 } });
      },
    }),
  ];
  const { metrics } = deps;
  if (metrics) {
    routes.push(route({
      method: 'GET', path: '/metrics', auth: 'metrics', metered: false, tags: ['Operations'],
      summary: "This process's metrics in the Prometheus text format: calls, latency, store, money, 402s, Claude tokens, open streams.",
      responses: { 200: { description: 'Prometheus text exposition format 0.0.4', media: ['text/plain'] } },
      async handle() {
        return { status: 200, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }, body: metrics() };
      },
    }));
  }
  return routes;
}
