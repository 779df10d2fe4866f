// Builds JSON responses and maps every thrown value to the one error shape (the core edge).
import { AipaygentError, STATUS_OF } from '../errors.js';
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

/** Logger the host may pass; only used for faults that are masked from the client. */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** The one error shape. Unknown errors are masked: no message, stack or internals reach the client. */
export function errorResponse(error: unknown, logger: Logger): CoreResponse {
  if (error instanceof AipaygentError) {
    const cause = (error as { cause?: unknown }).cause;
    if (error.status >= 500) logger.error(`aipaygent: ${error.code}`, cause ?? error);
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
