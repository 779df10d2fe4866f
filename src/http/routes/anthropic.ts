// The rest of Anthropic's API an SDK or Claude Code calls: count_tokens (free, rate-limited), the models we sell, and a JSON 404 for the others.
import { z } from 'zod';
import { modelCatalogue, modelPage } from '../../claude/models.js';
import { checkBetas, chooseModel, type ClaudeConfig } from '../../claude/options.js';
import type { ClaudeProxy } from '../../claude/proxy.js';
import { AipaygentError, invalid } from '../../errors.js';
import { RateLimiter } from '../../meter/rate-limit.js';
import type { Store } from '../../storage/contract.js';
import { AnthropicErrorBody, AnthropicModel, AnthropicModelPage, AnthropicTokenCount } from '../openapi-schemas.js';
import { errorResponse, json, type Logger } from '../respond.js';
import { route, type Route, type RouteContext } from '../route.js';
import type { CoreResponse } from '../types.js';
import { anthropicFailure, toAnthropicError } from './claude.js';

export interface AnthropicRouteDeps {
  proxy: ClaudeProxy;
  config: ClaudeConfig;
  store: Store;
  logger: Logger;
}

/** The prefix of the Anthropic-compatible routes, relative to the mount. */
export const ANTHROPIC_PREFIX = '/v1';

type CountBody = { model: string; messages: unknown[] } & Record<string, unknown>;

const countBody = (config: ClaudeConfig): z.ZodType<CountBody> =>
  z
    .looseObject({
      model: z.string({ error: (i) => (i.input === undefined ? 'model is required' : 'model must be a string') }),
      messages: z.array(z.unknown(), { error: (i) => (i.input === undefined ? 'messages is required' : 'messages must be an array') }),
    })
    .superRefine((b, ctx) => {
      const choice = chooseModel(config, b.model);
      if (!choice.ok) ctx.addIssue({ code: 'custom', path: ['model'], message: choice.message });
    }) as z.ZodType<CountBody>;

const pageQuery = z.object({
  limit: z.coerce.number({ error: 'limit must be an integer between 1 and 1000' }).int({ error: 'limit must be an integer between 1 and 1000' })
    .min(1, { error: 'limit must be an integer between 1 and 1000' }).max(1000, { error: 'limit must be an integer between 1 and 1000' }).default(20),
  after_id: z.string().optional(),
  before_id: z.string().optional(),
});
type PageQuery = z.infer<typeof pageQuery>;

/** Runs a handler, answering its errors (and ours) in Anthropic's error JSON. */
const anthropic = <Q, B>(logger: Logger, fn: (ctx: RouteContext<Q, B>) => Promise<CoreResponse>) => async (ctx: RouteContext<Q, B>): Promise<CoreResponse> => {
  try {
    return await fn(ctx);
  } catch (error) {
    return toAnthropicError(errorResponse(error, logger));
  }
};

const common = { tags: ['Claude'], errorBody: AnthropicErrorBody, renderError: toAnthropicError } satisfies Partial<Route>;

export function anthropicRoutes(deps: AnthropicRouteDeps): { routes: Route[]; fallback: Route } {
  const { proxy, config, logger } = deps;
  const limiter = new RateLimiter(deps.store, { requests: config.countTokensPerMinute, windowSeconds: 60 }, 'count_tokens');
  // Built once: the configuration does not change while the server runs.
  const catalogue = modelCatalogue(config);
  const byId = new Map(catalogue.map((m) => [m.id, m]));
  const routes: Route[] = [];

  if (config.countTokensPerMinute > 0) {
    routes.push(route<undefined, CountBody>({
      method: 'POST', path: '/v1/messages/count_tokens', auth: 'key', scope: 'claude', metered: false, ...common,
      summary:
        "Anthropic's token counting, passed to Anthropic with this server's key: free (no free call taken, nothing charged), " +
        `at most ${config.countTokensPerMinute} calls per minute per API key (then 429 rate_limit_error with retry-after).`,
      body: countBody(config),
      headers: ['anthropic-beta', 'anthropic-version'],
      errors: ['not_found', 'rate_limited'],
      responses: { 200: { description: "Anthropic's answer unchanged: `{ input_tokens }`", schema: AnthropicTokenCount, headers: ['request-id'] } },
      handle: anthropic(logger, async (ctx) => {
        const rate = await limiter.hit(ctx.caller.accountId, ctx.caller.keyId, ctx.now);
        if (!rate.allowed) {
          const retryAfter = String(Math.max(1, Math.ceil((rate.resetAt - ctx.now) / 1000)));
          throw new AipaygentError('rate_limited', `Rate limit exceeded: at most ${rate.limit} count_tokens calls per minute per API key; retry in ${retryAfter} s`, undefined, {
            'retry-after': retryAfter,
          });
        }
        const betas = checkBetas(config, ctx.req.headers['anthropic-beta']);
        if (!betas.ok) throw invalid(betas.message);
        const choice = chooseModel(config, ctx.body.model);
        if (!choice.ok) throw invalid(choice.message);
        const version = ctx.req.headers['anthropic-version'];
        const out = await proxy.forward('/v1/messages/count_tokens', { ...ctx.body, model: choice.model }, ctx.req.signal, {
          beta: betas.beta, version: typeof version === 'string' ? version : undefined,
        });
        if (out.kind === 'failed') return anthropicFailure(out.failure);
        return { status: out.status, headers: { ...out.headers, 'content-type': out.contentType, 'cache-control': 'no-store' }, body: out.text };
      }),
    }));
  }

  routes.push(
    route<PageQuery>({
      method: 'GET', path: '/v1/models', auth: 'key', scope: 'claude', metered: false, ...common,
      summary:
        "The models this server sells (its allowlist, then its aliases), in Anthropic's list shape with its pagination " +
        '(limit, after_id, before_id), each with `aipaygent_pricing`: our price per million tokens, markup included.',
      query: pageQuery,
      responses: { 200: { description: "Anthropic's model list page", schema: AnthropicModelPage } },
      handle: anthropic(logger, async (ctx) => {
        const page = modelPage(catalogue, ctx.query);
        if (!page) throw invalid(`No model with the id ${JSON.stringify(ctx.query.after_id ?? ctx.query.before_id)} on this server`);
        return json(200, page);
      }),
    }),
    route({
      method: 'GET', path: '/v1/models/:model_id', auth: 'key', scope: 'claude', metered: false, ...common,
      summary: 'One model this server sells (an id or an alias), with `aipaygent_pricing`; 404 not_found_error for any other.',
      errors: ['not_found'],
      responses: { 200: { description: "Anthropic's model object", schema: AnthropicModel } },
      handle: anthropic(logger, async (ctx) => {
        const model = byId.get(ctx.params.model_id!);
        if (!model) throw new AipaygentError('not_found', `model: ${ctx.params.model_id} is not available on this server`);
        return json(200, model);
      }),
    }),
  );

  const served = ['POST /v1/messages', ...routes.map((r) => `${r.method} ${r.path.replace(':model_id', '{model_id}')}`)].join(', ');
  const fallback: Route = {
    method: 'GET', path: `${ANTHROPIC_PREFIX}/*`, auth: 'none', metered: false, hidden: true, summary: 'Any other Anthropic path', ...common,
    async handle(ctx) {
      throw new AipaygentError('not_found', `${ctx.req.method} ${ctx.req.path} is not served here; this server serves ${served}.`);
    },
  };
  return { routes, fallback };
}
