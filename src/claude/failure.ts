// Maps an upstream failure to what our client is told, in our error shape and in Anthropic's.
import { STATUS_OF, type ErrorCode } from '../errors.js';
import type { UpstreamFailure } from './upstream.js';

/** One failure, told two ways: `code` for our error shape, `anthropic*` for `/v1/messages`. */
export interface ClientFailure {
  code: ErrorCode;
  /** Status of Anthropic's answer on `/v1/messages` (529 stays 529 there so SDKs retry as usual). */
  anthropicStatus: number;
  anthropicType: string;
  message: string;
  headers: Record<string, string>;
}

/** Anthropic's error type for each of our codes (our own errors on `/v1/messages`). */
export const ANTHROPIC_TYPE_OF: Readonly<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request_error',
  unauthorized: 'authentication_error',
  payment_required: 'billing_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  conflict: 'invalid_request_error',
  precondition_failed: 'invalid_request_error',
  request_timeout: 'timeout_error',
  payload_too_large: 'request_too_large',
  unsupported_media_type: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  internal: 'api_error',
  upstream_error: 'api_error',
  store_unavailable: 'api_error',
  server_busy: 'overloaded_error',
  upstream_timeout: 'timeout_error',
};

const fail = (code: ErrorCode, message: string, anthropicStatus = STATUS_OF[code], headers: Record<string, string> = {}): ClientFailure => ({
  code, anthropicStatus, anthropicType: ANTHROPIC_TYPE_OF[code], message, headers,
});

/**
 * What the client is told. Upstream messages about the request itself (400, 404, 413) are passed
 * on; anything about the operator's Anthropic account (401, 402, 403) or Anthropic's internals is
 * replaced, so the operator's key, account state and upstream URL never reach a client.
 */
export function describeFailure(f: UpstreamFailure): ClientFailure {
  if (f.kind === 'timeout') return fail('upstream_timeout', 'Claude did not answer in time.');
  if (f.kind === 'aborted') return fail('upstream_error', 'The request was cancelled.');
  if (f.kind === 'unreachable') return fail('upstream_error', 'Claude is unreachable right now; retry shortly.');
  if (f.kind === 'malformed') return fail('upstream_error', 'Claude sent a malformed answer; it was not billed. Retry shortly.');
  const said = f.message ? `Claude: ${f.message}` : undefined;
  // request-id, retry-after and anthropic-ratelimit-* reach the client (see relayedHeaders).
  const retry: Record<string, string> = { ...f.headers, ...(f.retryAfter && { 'retry-after': f.retryAfter }) };
  switch (f.status) {
    case 400:
    case 422:
      return fail('invalid_request', said ?? 'Claude rejected the request.', undefined, retry);
    case 404:
      return fail('not_found', said ?? 'Claude did not find what the request names.', undefined, retry);
    case 413:
      return fail('payload_too_large', said ?? 'The request is too large for Claude.', undefined, retry);
    case 429:
      return fail('rate_limited', 'Claude is rate limited for this server right now; retry later.', 429, retry);
    case 529:
      return { ...fail('upstream_error', 'Claude is temporarily overloaded; retry shortly.', 529, retry), anthropicType: 'overloaded_error' };
    case 408:
    case 504:
      return fail('upstream_timeout', 'Claude did not answer in time.', undefined, retry);
    case 401:
    case 402:
    case 403:
      return fail('upstream_error', 'This server cannot use Claude right now (its upstream account was refused); the operator has been notified.');
    default:
      return fail('upstream_error', `Claude failed to answer (upstream status ${f.status}); retry shortly.`, STATUS_OF.upstream_error, retry);
  }
}
