// What a route is: method, path, auth, input schemas and a handler; the table drives routing and OpenAPI.
import type { z } from 'zod';
import type { CoreRequest, CoreResponse } from './types.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type AuthKind = 'key' | 'admin' | 'none';

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
}

export interface Route<Q = any, B = any> {
  method: Method;
  /** Relative to the mount; ":name" segments are parameters. */
  path: string;
  auth: AuthKind;
  /** Counts against the free quota / balance (see the meter). */
  metered: boolean;
  summary: string;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  handle(ctx: RouteContext<Q, B>): Promise<CoreResponse>;
}

/** Identity helper that keeps the schema and handler types tied together. */
export function route<Q = undefined, B = undefined>(r: Route<Q, B>): Route<Q, B> {
  return r;
}
