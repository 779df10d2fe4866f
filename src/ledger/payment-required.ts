// The 402 answer: a `payment` object a program can act on (price, balance, how to buy), and its error.
import { AipaygentError } from '../errors.js';
import { iso } from '../time.js';
import { formatUsd } from './money.js';

/** What the caller was short of, handed to the "how to buy" provider. */
export interface PaymentContext {
  accountId: string;
  /** micro-USD the call costs (for token-billed calls: the amount that had to be reserved). */
  price: number;
  /** micro-USD available now. */
  balance: number;
}

/**
 * Machine-readable buy instructions. The payments module supplies chain details (network, token,
 * receiver, minimum amount...); its fields are merged over the defaults below.
 */
export type BuyInstructions = Record<string, unknown>;

/** Plugged in by the payments module; may be async (e.g. to quote a price). */
export type HowToBuyProvider = (ctx: PaymentContext) => BuyInstructions | Promise<BuyInstructions>;

export interface PaymentDetails extends PaymentContext {
  freeCallsPerDay: number;
  freeCallsRemaining: number;
  /** When today's free calls come back (next UTC midnight). */
  freeCallsResetAt: number;
}

/** Paths are relative to where aipaygent is mounted, like every path of the HTTP contract. */
const DEFAULT_BUY: BuyInstructions = {
  instructions: { method: 'GET', path: '/buy-credits' },
  purchase: { method: 'POST', path: '/buy-credits', body: { tx_hash: '<hash of your USDC transfer>' } },
  balance: { method: 'GET', path: '/credits/balance' },
};

/** The `payment` object of a 402 body. */
export async function paymentObject(details: PaymentDetails, howToBuy?: HowToBuyProvider): Promise<Record<string, unknown>> {
  const shortfall = Math.max(0, details.price - details.balance);
  const extra = howToBuy ? await howToBuy({ accountId: details.accountId, price: details.price, balance: details.balance }) : {};
  return {
    currency: 'USD',
    price_micro_usd: details.price,
    price_usd: formatUsd(details.price),
    balance_micro_usd: details.balance,
    balance_usd: formatUsd(details.balance),
    shortfall_micro_usd: shortfall,
    shortfall_usd: formatUsd(shortfall),
    free_calls_per_day: details.freeCallsPerDay,
    free_calls_remaining: details.freeCallsRemaining,
    free_calls_reset_at: iso(details.freeCallsResetAt),
    buy: { ...DEFAULT_BUY, ...extra },
  };
}

/** The 402 `payment_required` error (never a 429: lack of money is not a rate limit). */
export async function paymentRequired(details: PaymentDetails, howToBuy?: HowToBuyProvider, headers?: Record<string, string>): Promise<AipaygentError> {
  const free = details.freeCallsPerDay > 0 ? `the ${details.freeCallsPerDay} free calls of today are used and ` : '';
  return new AipaygentError(
    'payment_required',
    `Payment required: ${free}this call costs ${formatUsd(details.price)} USD but the balance is ${formatUsd(details.balance)} USD. ` +
      'Buy credits (see payment.buy) or wait for tomorrow\'s free calls.',
    { payment: await paymentObject(details, howToBuy) },
    headers,
  );
}
