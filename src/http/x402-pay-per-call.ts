// x402 on the HTTP edge: PAYMENT-SIGNATURE in, PAYMENT-REQUIRED / PAYMENT-RESPONSE out, for the meter's 402 path.
import { AipaygentError } from '../errors.js';
import type { X402PayResult, X402Service } from '../payments/x402-service.js';
import { PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE } from '../payments/x402-headers.js';
import type { PayPerCall } from './metering.js';
import type { CoreRequest } from './types.js';

/** The PAYMENT-SIGNATURE header, when one was sent. */
export function paymentSignatureOf(req: CoreRequest): string | undefined {
  const h = req.headers[PAYMENT_SIGNATURE];
  return typeof h === 'string' && h ? h : undefined;
}

/** The resource URL of x402 messages: the route as the client addresses it (mount prefix included). */
export const resourceOf = (req: CoreRequest, path: string): string => `${req.mountPath ?? ''}${path}`;

/** A failed x402 payment: 400 for an unreadable payload, else 402 with fresh requirements (x402 HTTP transport). */
export function x402Failure(paid: Extract<X402PayResult, { ok: false }>, requiredHeader: string): AipaygentError {
  return new AipaygentError(paid.reason === 'invalid_payload' ? 'invalid_request' : 'payment_required', paid.message, { reason: paid.reason }, {
    [PAYMENT_RESPONSE]: paid.responseHeader,
    [PAYMENT_REQUIRED]: requiredHeader,
  });
}

/** The meter's hook: every fixed-price 402 offers x402, and a retry carrying a payment is settled before it is served. */
export function x402PayPerCall(x402: X402Service): PayPerCall {
  return {
    challenge: (price, route, req) => ({ [PAYMENT_REQUIRED]: x402.requiredHeader(price, resourceOf(req, route.path), route.summary) }),
    async pay(accountId, req, price, route, now) {
      const header = paymentSignatureOf(req);
      if (!header) return undefined;
      const paid = await x402.pay(accountId, header, price, now);
      if (!paid.ok) throw x402Failure(paid, x402.requiredHeader(price, resourceOf(req, route.path), route.summary, paid.message));
      return { [PAYMENT_RESPONSE]: paid.responseHeader };
    },
  };
}
