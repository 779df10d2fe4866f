// Claude routes (API key, billed by tokens): the article's /claude/message and Anthropic-compatible /v1/messages.
import { z } from 'zod';
import { ANTHROPIC_TYPE_OF, type ClientFailure } from '../../claude/failure.js';
import type { MemoryClaude } from '../../claude/memory-claude.js';
import { memoryRouteDoc, memoryScopes } from '../../claude/memory-spec.js';
import { checkBetas, chooseModel, type ClaudeConfig } from '../../claude/options.js';
import { STREAM_COST_COMMENT, type ClaudeOutcome, type ClaudeProxy } from '../../claude/proxy.js';
import { AipaygentError, type ErrorCode } from '../../errors.js';
import type { Meter } from '../../meter/meter.js';
import { BALANCE_HEADER } from '../metering.js';
import { AnthropicErrorBody, AnthropicMessage } from '../openapi-schemas.js';
import { errorResponse, json, type Logger } from '../respond.js';
import { route, type Route, type RouteContext } from '../route.js';
import type { CoreResponse } from '../types.js';

export interface ClaudeRouteDeps {
  proxy: ClaudeProxy;
  config: ClaudeConfig;
  meter: Meter;
  logger: Logger;
  /** Context injection and the server-side memory tool; without it `memory` is passed upstream untouched. */
  memory?: MemoryClaude;
}

/** The header carrying what a non-streamed call was charged (streams end with an SSE comment instead). */
export const COST_HEADER = 'x-cost-micro-usd';

type Body = { model: string; messages: unknown[]; max_tokens?: number; stream?: boolean } & Record<string, unknown>;

/**
 * Only what we need is checked here (model, max_tokens, stream, messages present); everything
 * else is Anthropic's to validate, so new API fields pass through unchanged.
 */
function messagesBody(config: ClaudeConfig): z.ZodType<Body> {
  return z
    .looseObject({
      model: z.string({ error: (i) => (i.input === undefined ? 'model is required' : 'model must be a string') }),
      messages: z.array(z.unknown(), { error: (i) => (i.input === undefined ? 'messages is required' : 'messages must be an array') })
        .min(1, { error: 'messages must not be empty' }),
      max_tokens: z
        .number({ error: 'max_tokens must be an integer' })
        .int({ error: 'max_tokens must be an integer' })
        .min(1, { error: 'max_tokens must be at least 1' })
        .max(config.maxTokensCap, { error: `max_tokens must be at most ${config.maxTokensCap} on this server` })
        .optional(),
      stream: z.boolean({ error: 'stream must be true or false' }).optional(),
    })
    .superRefine((b, ctx) => {
      // Checked with the input, before the meter: an unknown model costs nothing and reaches no upstream.
      const choice = chooseModel(config, b.model);
      if (!choice.ok) ctx.addIssue({ code: 'custom', path: ['model'], message: choice.message });
    }) as z.ZodType<Body>;
}

/** Anthropic's error JSON from one of our error responses (same status and headers). */
export function toAnthropicError(res: CoreResponse): CoreResponse {
  let parsed: { error?: { code?: ErrorCode; message?: string }; payment?: unknown } = {};
  try {
    parsed = JSON.parse(typeof res.body === 'string' ? res.body : '{}');
  } catch {
    // keep the defaults below
  }
  const type = (parsed.error?.code && ANTHROPIC_TYPE_OF[parsed.error.code]) ?? 'api_error';
  const body = { type: 'error', error: { type, message: parsed.error?.message ?? 'Internal error.' }, ...(parsed.payment !== undefined && { payment: parsed.payment }) };
  return json(res.status, body, res.headers);
}

export function anthropicFailure(f: ClientFailure): CoreResponse {
  return json(f.anthropicStatus, { type: 'error', error: { type: f.anthropicType, message: f.message } }, f.headers);
}

function success(o: Extract<ClaudeOutcome, { kind: 'message' | 'stream' }>): CoreResponse {
  // A fresh object filled in place (`{ ...o.headers, more }` costs ~0.7 µs per added property on Node 20).
  const headers: Record<string, string> = Object.assign({}, o.headers, { 'content-type': o.contentType });
  if (o.requestId) headers['request-id'] = o.requestId;
  if (o.balance !== null) headers[BALANCE_HEADER] = String(o.balance);
  if (o.kind === 'message') return { status: o.status, headers: Object.assign(headers, { 'cache-control': 'no-store', [COST_HEADER]: String(o.cost) }), body: o.text };
  // no-transform and X-Accel-Buffering keep proxies from buffering the stream.
  return { status: o.status, headers: Object.assign(headers, { 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }), body: o.chunks };
}

export function claudeRoutes(deps: ClaudeRouteDeps): Route[] {
  const { proxy, config, meter, logger } = deps;
  const body = messagesBody(config);
  // Documentation (OpenAPI) shared by both routes.
  const docs = {
    tags: ['Claude'],
    description: memoryRouteDoc(config.memory),
    headers: ['anthropic-beta', 'anthropic-version'],
    errors: ['not_found', 'rate_limited'],
    responses: {
      200: {
        description: `Anthropic's Message JSON unchanged, or with \`stream: true\` its SSE events (ending with an \`: ${STREAM_COST_COMMENT}=<n>\` comment line)`,
        schema: AnthropicMessage, media: ['text/event-stream'], headers: ['x-cost-micro-usd', 'request-id'],
      },
    },
  } satisfies Partial<Route>;

  // Memory used through a Claude call needs the memory scopes too (only when the memory layer is on: else `memory` goes upstream untouched).
  const moreScopes = deps.memory ? memoryScopes : undefined;

  async function run(ctx: RouteContext<undefined, Body>, anthropic: boolean): Promise<CoreResponse> {
    const choice = chooseModel(config, ctx.body.model);
    if (!choice.ok) throw new AipaygentError('invalid_request', choice.message);
    const betas = checkBetas(config, ctx.req.headers['anthropic-beta']);
    if (!betas.ok) throw new AipaygentError('invalid_request', betas.message);
    const version = ctx.req.headers['anthropic-version'];
    const call = {
      accountId: ctx.caller.accountId, body: ctx.body, choice, free: ctx.charge?.free ?? false,
      signal: ctx.req.signal, beta: betas.beta, version: typeof version === 'string' ? version : undefined, now: ctx.now, keyId: ctx.caller.keyId,
    };
    // Memory-aware calls (`memory` / x-aipaygent-memory-* headers) go through the memory layer; the others straight to the proxy.
    const outcome = await (deps.memory ? deps.memory.call(call, ctx.req.headers) : proxy.call(call));
    if (outcome.kind === 'message' || outcome.kind === 'stream') return success(outcome);
    if (outcome.kind === 'insufficient') {
      const charge = ctx.charge;
      throw await meter.paymentRequired(
        ctx.caller.accountId,
        { price: outcome.required, balance: outcome.balance, freeRemaining: charge?.freeRemaining ?? 0, resetAt: charge?.resetAt ?? ctx.now, cap: outcome.cap },
        { [BALANCE_HEADER]: String(outcome.balance) },
      );
    }
    const cost = { [COST_HEADER]: String(outcome.cost) };
    if (anthropic) return anthropicFailure({ ...outcome.failure, headers: { ...outcome.failure.headers, ...cost } });
    throw new AipaygentError(outcome.failure.code, outcome.failure.message, undefined, { ...outcome.failure.headers, ...cost });
  }

  return [
    route<undefined, Body>({
      method: 'POST', path: '/claude/message', auth: 'key', scope: 'claude', metered: 'tokens', moreScopes,
      summary:
        "Send a Messages API request to Claude (the article's body: messages, model; max_tokens optional). " +
        'Answers Anthropic\'s Message JSON unchanged (content[0].text), or its SSE events with stream: true. ' +
        'Billed by tokens; the cost is in the X-Cost-Micro-USD header (streams: a final SSE comment).',
      body,
      ...docs,
      handle: (ctx) => run(ctx, false),
    }),
    route<undefined, Body>({
      method: 'POST', path: '/v1/messages', auth: 'key', scope: 'claude', metered: 'tokens', moreScopes,
      summary:
        "Anthropic-compatible Messages API: point an official SDK's baseURL at this mount and use an aipaygent API key " +
        '(x-api-key or Authorization: Bearer). Errors use Anthropic\'s error JSON.',
      body,
      ...docs,
      errorBody: AnthropicErrorBody,
      async handle(ctx) {
        try {
          return await run(ctx, true);
        } catch (error) {
          return toAnthropicError(errorResponse(error, logger));
        }
      },
      renderError: toAnthropicError,
    }),
  ];
}
