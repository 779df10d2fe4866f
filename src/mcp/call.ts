// A tool call as a call of its route (translation only: the route validates, meters and answers), and the answer as a tool result.
import { BALANCE_HEADER } from '../http/metering.js';
import type { CoreRequest, CoreResponse } from '../http/types.js';
import { PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE } from '../payments/x402-headers.js';
import type { Tool } from './tools.js';

type Json = Record<string, any>;

/** The header naming the connection's default user: tools called without `user_id` act for this user. */
export const USER_HEADER = 'x-aipaygent-user';

/** One HTTP request to the MCP endpoint, seen by the tool calls it carries. */
export interface McpCall {
  req: CoreRequest;
  /** A tool call's key was refused (401): the whole HTTP answer becomes this, as for any route. */
  refused?: CoreResponse;
}

/** The MCP `_meta` keys of the x402 transport binding (as the x402 MCP spec names them). */
export const X402_PAYMENT = 'x402/payment';
export const X402_PAYMENT_RESPONSE = 'x402/payment-response';
const X402_ERROR = 'x402/error';
const X402_HOW = 'call the tool again with _meta["x402/payment"]: a PaymentPayload for what x402/error.data of this result asks';

/** What calls a route: the core's `invoke`. */
export type Invoke = (route: Tool['route'], req: CoreRequest, query?: Record<string, string>) => Promise<CoreResponse>;

const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
function fromBase64Json(header: string | undefined): unknown {
  if (header === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A query string carries text: typed arguments are sent as a query would carry them; objects go as they are, for the route to refuse. */
const asQueryValue = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);

/** An etag given without its quotes is the same etag (a model easily drops them). */
const asTag = (v: unknown) => (typeof v === 'string' && v !== '*' && !v.startsWith('"') && !v.startsWith('W/') ? `"${v}"` : v);

const NO_BODY: CoreRequest['body'] = { kind: 'none' };

/**
 * A tool call's request to its route. signal, ip and mountPath are the MCP request's, read from it when asked
 * (the node bridge makes them on first read); getters on the prototype, as there: an object literal with
 * accessors costs a few µs per call to build.
 */
class ToolRequest implements CoreRequest {
  readonly query = '';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: CoreRequest['headers'],
    readonly body: CoreRequest['body'],
    private readonly outer: CoreRequest,
  ) {}
  get signal(): AbortSignal {
    return this.outer.signal;
  }
  get ip(): string | undefined {
    return this.outer.ip;
  }
  get mountPath(): string | undefined {
    return this.outer.mountPath;
  }
}

/** The route request of a tool call: the caller's credentials, the default user, conditions and an x402 payment as headers. */
export function routeRequest(tool: Tool, args: Json, meta: Json | undefined, call: McpCall): { req: CoreRequest; query?: Record<string, string> } {
  const outer = call.req;
  const headers: CoreRequest['headers'] = { authorization: outer.headers.authorization, 'x-api-key': outer.headers['x-api-key'] };
  const input: Json = {};
  for (const name in args) {
    const header = tool.headers[name];
    if (header === undefined) input[name] = args[name];
    else if (typeof args[name] === 'string') headers[header] = asTag(args[name]) as string;
    else if (args[name] !== undefined && args[name] !== null) input[name] = args[name]; // not a string: left for the route to refuse by name
  }
  const user = outer.headers[USER_HEADER];
  if (input.user_id === undefined && typeof user === 'string' && user) input.user_id = user;
  const payment = meta?.[X402_PAYMENT];
  if (payment !== undefined) headers[PAYMENT_SIGNATURE] = base64Json(payment);
  const req = new ToolRequest(tool.route.method, tool.route.path, headers, tool.input === 'body' ? { kind: 'parsed', value: input } : NO_BODY, outer);
  if (tool.input === 'body') return { req };
  const query: Record<string, string> = {};
  for (const name in input) query[name] = asQueryValue(input[name]) as string;
  return { req, query };
}

/**
 * The route's answer as a tool result: its JSON body is the structured content (and, as text, the content).
 * An error answer is a tool error carrying the same body (a 402 its `payment`, and with x402 the requirements
 * under `x402/error` as the x402 MCP binding asks). The quota and balance headers go to `_meta`.
 */
export function toolResult(res: CoreResponse, call: McpCall): Json {
  if (res.status === 401) {
    call.refused = res;
    return { content: [], isError: true };
  }
  const text = typeof res.body === 'string' ? res.body : '';
  let structured: Json;
  try {
    structured = JSON.parse(text) as Json;
  } catch {
    structured = { status: 'error', error: { code: 'internal', message: 'Internal error.' } };
  }
  const meta: Json = {};
  const h = res.headers;
  if (h[BALANCE_HEADER] !== undefined) meta['aipaygent/balance_micro_usd'] = Number(h[BALANCE_HEADER]);
  if (h.ratelimit !== undefined) meta['aipaygent/ratelimit'] = h.ratelimit;
  const settled = fromBase64Json(h[PAYMENT_RESPONSE]);
  if (settled !== undefined) meta[X402_PAYMENT_RESPONSE] = settled;
  const withMeta = (result: Json) => (Object.keys(meta).length ? Object.assign(result, { _meta: meta }) : result);
  if (res.status < 400) return withMeta({ content: [{ type: 'text', text }], structuredContent: structured });
  const required = fromBase64Json(h[PAYMENT_REQUIRED]);
  if (required === undefined) return withMeta({ content: [{ type: 'text', text }], structuredContent: structured, isError: true });
  // The HTTP words of the 402 (a header to read, a header to send) said the MCP way.
  if (structured.payment?.x402) structured.payment.x402 = { pay_this_call: X402_HOW };
  if (typeof structured.error?.message === 'string') structured.error.message = structured.error.message.replace('(PAYMENT-REQUIRED header)', '(x402/error in this result)');
  structured[X402_ERROR] = { code: 402, message: structured.error?.message ?? 'Payment required', data: required };
  if (settled !== undefined) structured[X402_PAYMENT_RESPONSE] = settled;
  return withMeta({ content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured, isError: true });
}
