// Builds JSON responses and maps every thrown value to the one error shape (the core edge).
import { AipaygentError, reasonOf, STATUS_OF } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { CoreResponse } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response from a value (or from already-serialized JSON text). */
export function json(status: number, body: unknown, headers?: Record<string, string>): CoreResponse {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export type { Logger } from '../observe/logger.js';

/** The one error shape. Unknown errors are masked: no message, stack or internals reach the client. */
export function errorResponse(error: unknown, logger: Logger): CoreResponse {
  if (error instanceof AipaygentError) {
    const cause = (error as { cause?: unknown }).cause;
    // Shedding load is not a fault; a store outage is one fault, reported as such, not once per call with a stack.
    if (error.code === 'store_unavailable') storeFault(logger, error);
    else if (error.status >= 500 && error.code !== 'server_busy') logger.error(`aipaygent: ${error.code}`, cause ?? error);
    // A 4xx with a cause (a store refusing a value: some door let it through) is the operator's to know.
    else if (cause !== undefined) logger.warn(`aipaygent: ${error.code}: ${error.message}`, cause);
    return json(
      error.status,
      { status: 'error', error: { code: error.code, message: error.message }, ...error.extra },
      error.headers,
    );
  }
  logger.error('aipaygent: unexpected error', error);
  return json(STATUS_OF.internal, { status: 'error', error: { code: 'internal', message: 'Internal error.' } });
}

/** Per logger: when the last store fault was logged, and how many came since. */
const storeFaults = new WeakMap<Logger, { at: number; since: number }>();
const STORE_FAULT_EVERY_MS = 10_000;

/** One line per store fault, at most one every 10 s with the count of the others (an outage must not flood the log). */
function storeFault(logger: Logger, error: unknown): void {
  const now = Date.now();
  const last = storeFaults.get(logger);
  if (last && now - last.at < STORE_FAULT_EVERY_MS) {
    last.since++;
    return;
  }
  const more = last?.since ? ` (${last.since} more since the last report)` : '';
  storeFaults.set(logger, { at: now, since: 0 });
  logger.error(`aipaygent: store_unavailable: ${reasonOf(error)}; answered 503${more}`);
}
