// OpenTelemetry spans through @opentelemetry/api only (the host brings the SDK): one per call served, one per Claude call (GenAI conventions).
import type { Attributes, Tracer } from '@opentelemetry/api';
import type { ClaudeEvent, Events, RequestEvent } from './events.js';

/** The parts of @opentelemetry/api used here, loaded on demand (an optional peer). */
type OtelApi = typeof import('@opentelemetry/api');

/**
 * Spans are made when their event arrives, with the start time the event carries, under the context
 * active then (the host's HTTP span, when it traces HTTP): no span is open while the call runs.
 */
export function subscribeSpans(api: OtelApi, events: Events, version: string): void {
  const tracer: Tracer = api.trace.getTracer('aipaygent', version);
  const span = (name: string, kind: number, startedAt: number, endedAt: number, attributes: Attributes, failed: boolean) => {
    const s = tracer.startSpan(name, { kind, attributes, startTime: startedAt }, api.context.active());
    if (failed) s.setStatus({ code: api.SpanStatusCode.ERROR });
    s.end(endedAt);
  };
  events.subscribe((e) => {
    if (e.type === 'request') {
      const r: RequestEvent = e;
      span(`${r.method} ${r.route}`, api.SpanKind.INTERNAL, r.endedAt - r.durationMs, r.endedAt, {
        'http.request.method': r.method, 'http.route': r.route, 'http.response.status_code': r.status,
        ...(r.status >= 500 && { 'error.type': String(r.status) }),
      }, r.status >= 500);
    } else if (e.type === 'claude') {
      const c: ClaudeEvent = e;
      span(`chat ${c.model}`, api.SpanKind.CLIENT, c.endedAt - c.durationMs, c.endedAt, genAiAttributes(c), c.status >= 400);
    }
  });
}

/** OpenTelemetry semantic conventions for generative AI client spans (gen_ai.*), for an Anthropic chat call. */
export function genAiAttributes(c: ClaudeEvent): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.system': 'anthropic', // the attribute's name before semconv 1.37, still read by many backends
    'gen_ai.request.model': c.model,
    'gen_ai.request.max_tokens': c.maxTokens,
    'gen_ai.response.model': c.model,
    ...(c.requestId && { 'gen_ai.response.id': c.requestId }),
    ...(c.finishReason && { 'gen_ai.response.finish_reasons': [c.finishReason] }),
    'gen_ai.usage.input_tokens': c.tokens.input + c.tokens.cacheRead + c.tokens.cacheWrite5m + c.tokens.cacheWrite1h,
    'gen_ai.usage.output_tokens': c.tokens.output,
    'aipaygent.cost_micro_usd': c.costMicroUsd,
    'aipaygent.stream': c.stream,
    ...(c.status >= 400 && { 'error.type': String(c.status) }),
  };
}
