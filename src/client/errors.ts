// The one error the client throws for an HTTP error answer: status, stable code, message, and the 402 payment object.
import type { PaymentInfo } from './types.js';

/** An error answer of the API (or of the network / a non-JSON answer, with `code` "network_error" / "bad_response"). */
export class AipaygentClientError extends Error {
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The API's stable code (`invalid_request`, `payment_required`...), or `network_error` / `bad_response`. */
  readonly code: string;
  /** On 402: what the call costs, the balance, and how to buy credits. */
  readonly payment: PaymentInfo | undefined;
  /** The whole error body, for fields such as `reason` or `current`. */
  readonly body: unknown;
  /** The answer's headers (e.g. `retry-after`, `payment-required`). */
  readonly headers: Headers | undefined;

  constructor(init: { status: number; code: string; message: string; payment?: PaymentInfo; body?: unknown; headers?: Headers; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'AipaygentClientError';
    this.status = init.status;
    this.code = init.code;
    this.payment = init.payment;
    this.body = init.body;
    this.headers = init.headers;
  }
}

/** Reads an error answer in either shape: ours (`{status:"error", error:{code, message}}`) or Anthropic's (`{type:"error", error:{type, message}}`). */
export async function errorFrom(res: Response): Promise<AipaygentClientError> {
  const text = await res.text().catch(() => '');
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return new AipaygentClientError({ status: res.status, code: 'bad_response', message: `HTTP ${res.status}: ${text.slice(0, 200) || res.statusText}`, headers: res.headers });
  }
  const error = body?.error ?? {};
  return new AipaygentClientError({
    status: res.status,
    code: String(error.code ?? error.type ?? 'bad_response'),
    message: String(error.message ?? `HTTP ${res.status}`),
    payment: body?.payment,
    body,
    headers: res.headers,
  });
}
