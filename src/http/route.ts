// What a route is: method, path, auth, input schemas and a handler; the table drives routing and OpenAPI.
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Scope } from '../keys/scopes.js';
import type { Charge } from '../meter/meter.js';
import type { DocHeader } from './openapi-headers.js';
import type { CoreRequest, CoreResponse } from './types.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** 'metrics': the metrics token, or the admin token. */
export type AuthKind = 'key' | 'admin' | 'metrics' | 'none';

/** Who is calling, once authenticated with an API key. */
export interface Caller {
  accountId: string;
  keyId: string;
}

export interface RouteContext<Q = unknown, B = unknown> {
  req: CoreRequest;
  /** Validated query parameters. */
  query: Q;
  /** Validated JSON body. */
  body: B;
  /** Path parameters (":key_id"). */
  params: Record<string, string>;
  /** Set when the route's auth is 'key'. */
  caller: Caller;
  /** The request's clock, read once: every expiry decision of the request uses it. */
  now: number;
  /**
   * What the meter took for this call; null on routes that are not metered. On `metered: 'tokens'`
   * routes `price` is always 0: `free: true` means the call used a free call and costs nothing more;
   * `free: false` means the handler must reserve the worst case with `store.hold` (402 through
   * `meter.paymentRequired` when refused) and `store.settle` the real usage, also on failure.
   */
  charge: Charge | null;
}

export interface Route<Q = any, B = any> {
  method: Method;
  /** Relative to the mount; ":name" segments are parameters. */
  path: string;
  auth: AuthKind;
  /**
   * How the call is paid (see src/http/metering.ts):
   * - false: free and uncounted;
   * - true: one free call of today, else a debit of the route's price (`pricing[path]`), else 402;
   *   refunded when the answer is a 5xx (or a 400/413/415 from the handler);
   * - 'tokens': one free call of today if left (then free), else the handler bills the real cost
   *   itself through hold/settle; a free call is given back on a 5xx like above.
   */
  metered: boolean | 'tokens';
  /**
   * The scope an API key needs for this key route (a key created without scopes has them all); without
   * one, every valid key may call it. A key lacking it gets 403 `forbidden` naming it.
   */
  scope?: Scope;
  /**
   * Scopes a request needs beyond `scope`, from what it asks for (a Claude call that uses memory needs the
   * memory scopes). When it names any, the key is read and checked before anything else (one store read).
   */
  moreScopes?(rawBody: unknown, headers: CoreRequest['headers']): Scope[];
  summary: string;
  /**
   * A key route whose handler verifies the key itself (the MCP endpoint: its tool calls are metered as
   * their own routes, which verify the key within the charge); the pipeline only checks its form.
   */
  ownKeyCheck?: true;
  /** Levels of nesting a body may have beyond `limits.maxDepth`: an envelope around a payload checked on its own (JSON-RPC). */
  envelopeDepth?: number;
  /** Served but not documented (OpenAPI, /discover, `ai.routes`): the stand-ins of features that are off. */
  hidden?: true;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  handle(ctx: RouteContext<Q, B>): Promise<CoreResponse>;
  /**
   * Rewrites the error responses the pipeline makes for this route (bad key, bad input, 402...),
   * for a route that must answer another API's error shape (Anthropic's on /v1/messages).
   */
  renderError?(res: CoreResponse): CoreResponse;
  // The fields below only document the route (src/http/openapi.ts); routing never reads them.
  /** Groups on the docs page. @default the first path segment, capitalized */
  tags?: string[];
  /** A longer description (CommonMark) shown under the summary. */
  description?: string;
  /** Success responses by status, with body schema and headers. @default 200 with a generic JSON object */
  responses?: Record<number, RouteResponse>;
  /** Error codes the handler itself answers; the pipeline's (auth, input, 402, 429, 503...) are derived. */
  errors?: ErrorCode[];
  /** Request headers the route reads besides credentials (e.g. 'if-match'). */
  headers?: DocHeader[];
  /** Body of the error responses when `renderError` gives them another shape. */
  errorBody?: z.ZodType;
}

/** One documented success response of a route. */
export interface RouteResponse {
  description: string;
  /** Schema of the JSON body. */
  schema?: z.ZodType;
  /** Media types served instead of or besides JSON (e.g. 'text/event-stream'), documented as text. */
  media?: string[];
  headers?: DocHeader[];
}

/** Identity helper that keeps the schema and handler types tied together. */
export function route<Q = undefined, B = undefined>(r: Route<Q, B>): Route<Q, B> {
  return r;
}
