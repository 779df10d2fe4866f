// The request pipeline: match, check credentials, validate, run the route (key routes through metering), map errors. Adapters call `handle`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AipaygentError, invalid, unauthorized } from '../errors.js';
import { parseApiKey } from '../keys/api-key.js';
import { readJsonBody, type BodyBudget, type BodyLimits } from './body.js';
import { parseInput, queryObject } from './fields.js';
import { InFlight, isStreamBody } from './in-flight.js';
import type { Events } from '../observe/events.js';
import type { Logger } from '../observe/logger.js';
import type { Metering } from './metering.js';
import { errorResponse, json } from './respond.js';
import type { Caller, Route } from './route.js';
import type { Match, Router } from './router.js';
import type { CoreRequest, CoreResponse } from './types.js';

export interface CoreDeps {
  router: Router;
  adminTokenHash: Buffer | undefined;
  /** Also admits GET /metrics (with the admin token). */
  metricsTokenHash: Buffer | undefined;
  limits: BodyLimits;
  logger: Logger;
  /** Key verification, rate limit, Idempotency-Key and the meter, run around every key-authenticated route. */
  metering: Metering;
  /** Each answered call is reported there (when someone listens). */
  events: Events;
  /** Bytes of request bodies being read at once, across calls (beyond it: 503 before reading). */
  bodyBudget: BodyBudget;
  /** Whether an API key is live (one store read): asked before a large body is read, never on the usual path. */
  keyIsLive(apiKey: string, now: number): Promise<boolean>;
}

/**
 * A body larger than this (or of unknown length) is read only once its API key proved live. Below it
 * the bytes are already in the socket's buffers (64 KiB is one TCP receive window) and checking first
 * would add a store round trip to every ordinary call; above it reading costs more than that round
 * trip, and an unknown key must not get us to hold megabytes (the body budget bounds the rest).
 */
export const VERIFY_KEY_ABOVE_BYTES = 64 * 1024;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The token of `Authorization: Bearer <token>`, or of `x-api-key` (Anthropic SDK style). */
export function presentedToken(headers: CoreRequest['headers']): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const space = auth.indexOf(' ');
    if (space > 0 && auth.slice(0, space).toLowerCase() === 'bearer') return auth.slice(space + 1).trim() || undefined;
    return undefined;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}

const NO_CALLER: Caller = { accountId: '', keyId: '' };

/** The request handler plus what a graceful shutdown needs from it. */
export interface Handler {
  handle(req: CoreRequest): Promise<CoreResponse | undefined>;
  /**
   * Runs `route` for a request another door built (an MCP tool call): the same credential check, input
   * validation, metering, refund and error mapping as an HTTP call of the route, never throwing. It is no
   * request of its own (no request event, not counted in flight: the door's own request is). `query`:
   * the query parameters as values, for a door that has them already (no query string to build and parse).
   */
  invoke(route: Route, req: CoreRequest, query?: Record<string, string>): Promise<CoreResponse>;
  /**
   * Stops taking requests (each new one is a 503) and resolves once every call in flight has its whole
   * answer (a streamed body: read to the end, failed, or given up by its reader), or after `timeoutMs`
   * (Infinity: no limit); true when none was left.
   */
  drain(timeoutMs: number): Promise<boolean>;
  /** True once `drain` began (readiness answers 503 from then on). */
  readonly draining: boolean;
}

/** An error answer in the route's own shape (the Anthropic-compatible routes render theirs). */
const rendered = (match: Match, res: CoreResponse): CoreResponse =>
  match.kind === 'route' ? (match.route.renderError ? match.route.renderError(res) : res) : match.render ? match.render(res) : res;

/** The answer to a request that arrives once `drain` began: nothing was done, so nothing to log. */
const shuttingDown = (match: Match): CoreResponse =>
  rendered(match, json(503, {
    status: 'error',
    error: { code: 'store_unavailable', message: 'This server is shutting down; the call was not served and nothing was charged. Retry shortly.' },
  }, { 'retry-after': '1' }));

export function createHandler(deps: CoreDeps): Handler {
  const { router, adminTokenHash, metricsTokenHash, limits, logger, metering, events, bodyBudget } = deps;
  const matches = (token: string | undefined, hash: Buffer | undefined) => token !== undefined && hash !== undefined && timingSafeEqual(sha256(token), hash);
  const calls = new InFlight((delta) => events.active && events.emit({ type: 'stream', delta }));

  /** The credential a route needs, checked without the store (a malformed one costs no round trip). Throws 401. */
  function credential(route: Route, req: CoreRequest): string | undefined {
    if (route.auth === 'none') return undefined;
    const token = presentedToken(req.headers);
    if (route.auth === 'admin') {
      if (!matches(token, adminTokenHash)) throw unauthorized('A valid admin token is required');
    } else if (route.auth === 'metrics') {
      if (!matches(token, metricsTokenHash) && !matches(token, adminTokenHash)) throw unauthorized('A valid metrics or admin token is required');
    } else {
      if (!token) throw unauthorized('Missing API key: send "Authorization: Bearer <api key>"');
      if (!parseApiKey(token)) throw unauthorized('Invalid API key');
    }
    return token;
  }

  /** Validates the body, then runs the route (key routes through metering). Throws 4xx as AipaygentError. */
  function run(route: Route, req: CoreRequest, params: Record<string, string>, token: string | undefined, query: unknown, rawBody: unknown): Promise<CoreResponse> {
    const body = route.body ? parseInput(route.body, rawBody, 'request body') : undefined;
    const ctx = { req, query, body, params, caller: NO_CALLER, now: Date.now(), charge: null };
    // Invalid requests were refused above, before the meter: they cost nothing. Key routes: metering
    // verifies the key against the store (within the charge on metered routes) and sets ctx.caller.
    // A route that checks its key itself (the MCP endpoint: each tool call is metered as its own route) runs as is.
    return route.auth === 'key' && !route.ownKeyCheck ? metering(route, ctx, rawBody, token!) : route.handle(ctx);
  }

  async function handle(req: CoreRequest): Promise<CoreResponse | undefined> {
    const match = router.match(req.method, req.path);
    if (!match) return undefined;
    if (!calls.begin()) return shuttingDown(match);
    let streaming = false;
    const started = events.active ? performance.now() : 0;
    try {
      const res = await answer(match, req);
      if (events.active) served(match, req, res.status, started);
      if (!isStreamBody(res.body)) return res;
      // A stream's work (and billing) goes on while it is read: the call ends with it.
      streaming = true;
      return { status: res.status, headers: res.headers, body: calls.untilEnd(res.body) };
    } finally {
      if (!streaming) calls.end();
    }
  }

  /**
   * The route's answer, or the error answer: never rejects. Not `async`: an async function returning
   * serve's promise would resolve through it (two more microtask turns on every call).
   */
  function answer(match: Match, req: CoreRequest): Promise<CoreResponse> {
    return match.kind === 'route' ? serve(match.route, req, match.params) : Promise.resolve(refusal(match, req));
  }

  /** The answer to a path of ours that names no route (wrong method, bad path parameter). */
  function refusal(match: Exclude<Match, { kind: 'route' }>, req: CoreRequest): CoreResponse {
    try {
      if (match.kind === 'method_not_allowed') {
        throw new AipaygentError('method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${match.allow.join(', ')}`, undefined, {
          allow: match.allow.join(', '),
        });
      }
      throw invalid(`The path parameter ${match.name} ${match.empty ? 'must not be empty' : 'is not valid percent-encoded UTF-8'}`);
    } catch (error) {
      return rendered(match, errorResponse(error, logger));
    }
  }

  /** One route's answer, or its error answer: never throws. */
  async function serve(route: Route, req: CoreRequest, params: Record<string, string>, queryValues?: Record<string, string>): Promise<CoreResponse> {
    try {
      // Cheap checks first (credential, query string), then the body is read.
      const token = credential(route, req);
      const query = route.query ? parseInput(route.query, queryValues ?? queryObject(req.query), 'query') : undefined;
      const body = req.body;
      if (route.auth === 'key' && body.kind === 'stream' && (body.length ?? Infinity) > VERIFY_KEY_ABOVE_BYTES && !(await deps.keyIsLive(token!, Date.now()))) {
        // Refused unread: what is in flight is dropped, then the connection closes (nothing is held).
        body.discard?.();
        throw unauthorized('Invalid or revoked API key');
      }
      // An envelope (a JSON-RPC message) may nest its payload a few levels deeper than a body of its own may.
      const bodyLimits = route.envelopeDepth ? { ...limits, maxDepth: limits.maxDepth + route.envelopeDepth } : limits;
      const rawBody = route.body ? await readJsonBody(body, bodyLimits, bodyBudget) : undefined;
      return await run(route, req, params, token, query, rawBody);
    } catch (error) {
      return route.renderError ? route.renderError(errorResponse(error, logger)) : errorResponse(error, logger);
    }
  }

  /** The request event: the route's pattern (never the raw path: labels stay few), status, time to the answer. */
  function served(match: Match, req: CoreRequest, status: number, started: number): void {
    const endedAt = Date.now();
    const route = match.kind === 'route' ? match.route.path : match.kind === 'method_not_allowed' ? '(method not allowed)' : '(bad path)';
    events.emit({ type: 'request', method: req.method, route, status, durationMs: performance.now() - started, endedAt });
  }

  return {
    handle,
    invoke: (route, req, query) => serve(route, req, {}, query),
    drain: (timeoutMs) => calls.drain(timeoutMs),
    get draining() {
      return calls.draining;
    },
  };
}
