// One error class with stable codes, and the one table mapping codes to HTTP statuses.

/** Stable error codes of the HTTP contract. */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'payment_required'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'precondition_failed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal'
  | 'upstream_error'
  | 'store_unavailable'
  | 'server_busy'
  | 'upstream_timeout';

/** HTTP status of each code; the only place where codes meet statuses. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  upstream_error: 502,
  store_unavailable: 503,
  server_busy: 503,
  upstream_timeout: 504,
};

/**
 * An expected failure with a stable code, shown to the client as
 * `{"status":"error","error":{"code","message"}}` plus `extra` fields at the top level.
 */
export class AipaygentError extends Error {
  readonly code: ErrorCode;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.name = 'AipaygentError';
    this.code = code;
    this.extra = extra;
    this.headers = headers;
  }

  get status(): number {
    return STATUS_OF[this.code];
  }
}

/** Thrown by store implementations on any backend fault; always answered 503, never masked as "absent". */
export class StoreUnavailableError extends AipaygentError {
  /**
   * @param sent false when the operation never reached the store (it is not open yet, its client is
   *   offline): it cannot have happened, so nothing needs voiding. Else its answer may have been lost.
   */
  constructor(cause?: unknown, readonly sent = true) {
    // "Nothing was charged" would be a promise we cannot keep: a write that timed out may still commit.
    super('store_unavailable', 'The storage backend is unavailable or did not answer in time; the call was not served. Retry shortly (GET /credits/ledger shows any charge).');
    this.name = 'StoreUnavailableError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * Thrown by a store that refused a value as invalid data (Postgres SQLSTATE class 22, e.g. text it
 * cannot encode): the request's data is at fault, not the backend, so it is a 400 and never a 503
 * (a client told "retry shortly" would send the same bytes forever). Every door validates text
 * first (text.ts); reaching this means a door let something through, so its cause is logged.
 */
export class StoreRefusedValueError extends AipaygentError {
  constructor(cause?: unknown) {
    super('invalid_request', 'A value of this request cannot be stored: the storage backend refused it as invalid data. The call was not completed.');
    this.name = 'StoreRefusedValueError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * Why a fault happened, in one line for an operator: a StoreUnavailableError only wraps the reason (a
 * timeout, a refused connection), so its causes are followed to the first that says something else.
 */
export function reasonOf(error: unknown): string {
  let e = error;
  for (let i = 0; i < 8 && e instanceof StoreUnavailableError && (e as { cause?: unknown }).cause !== undefined; i++) e = (e as { cause?: unknown }).cause;
  return (e instanceof Error ? e.message : String(e ?? 'no answer in time')).split('\n')[0]!;
}

/** Shorthand for a 400 with a precise message. */
export function invalid(message: string): AipaygentError {
  return new AipaygentError('invalid_request', message);
}

/**
 * The client closed its connection before its request body was complete (an aborted upload). Not a
 * fault of ours: a 400 the client never reads, so nothing is logged and a metered call is refunded.
 */
export function clientClosed(): AipaygentError {
  return new AipaygentError('invalid_request', 'The request body was not received in full: the client closed the connection.');
}

/** A 401 that tells the client which scheme to use (the same header on every key or token failure). */
export function unauthorized(message: string): AipaygentError {
  return new AipaygentError('unauthorized', message, undefined, { 'www-authenticate': 'Bearer realm="aipaygent"' });
}
