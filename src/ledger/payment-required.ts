// The 402 answer: a `payment` object a program can act on (price, balance, how to buy), and its error.
import { AipaygentError } from '../errors.js';
import type { AppliedCap } from '../meter/spend-caps.js';
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
  /** Refused by this spend cap (not by the balance). */
  cap?: AppliedCap | undefined;
}

const CAP_WORDS: Record<AppliedCap['name'], string> = {
  key_daily: "this API key's daily", key_monthly: "this API key's monthly", account_daily: "the account's daily", account_monthly: "the account's monthly",
};

/** `payment.spend_cap`: which cap, its limit and reset, and that credit does not lift it. */
const capObject = (cap: AppliedCap) => ({
  cap: cap.name, limit_micro_usd: cap.limit, limit_usd: formatUsd(cap.limit), period: cap.period, resets_at: iso(cap.resetsAt),
  buying_credit_lifts_it: false, note: 'A spend cap limits what is spent per period whatever the balance; buying credit does not lift it. It resets at resets_at or when the operator raises it.',
});

/** The ways to pay this server offers, from its configuration: a 402 names only these. */
export interface WaysToPay {
  /** USDC purchases are on: their instructions (chain, token, receiver…) are merged into `payment.buy`. */
  buy?: HowToBuyProvider | undefined;
  /** x402 is on: a fixed-price call may pay itself (its 402 carries PAYMENT-REQUIRED). */
  x402?: boolean | undefined;
  /** Whom to ask for credits (the `operatorContact` option): shown when it is set. */
  contact?: string | undefined;
}

/** Paths are relative to where aipaygent is mounted, like every path of the HTTP contract. */
const PURCHASE_PATHS: BuyInstructions = {
  instructions: { method: 'GET', path: '/buy-credits' },
  purchase: { method: 'POST', path: '/buy-credits', body: { tx_hash: '<hash of your USDC transfer>' } },
};
const BALANCE = { method: 'GET', path: '/credits/balance' };

/** `payment.buy`: the purchase routes only when purchases exist, else who grants credits. */
async function buyObject(ctx: PaymentContext, ways: WaysToPay): Promise<BuyInstructions> {
  const contact = ways.contact === undefined ? {} : { contact: ways.contact };
  if (ways.buy) return { ...PURCHASE_PATHS, balance: BALANCE, ...(await ways.buy(ctx)), ...contact };
  return { balance: BALANCE, online_purchase: false, note: "This server sells no credits online: its operator grants them.", ...contact };
}

/** The `payment` object of a 402 body. */
export async function paymentObject(details: PaymentDetails, ways: WaysToPay = {}): Promise<Record<string, unknown>> {
  const shortfall = Math.max(0, details.price - details.balance);
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
    buy: await buyObject({ accountId: details.accountId, price: details.price, balance: details.balance }, ways),
    ...(details.cap && { spend_cap: capObject(details.cap) }),
    ...(ways.x402 && !details.cap && { x402: { pay_this_call: 'retry with a PAYMENT-SIGNATURE header for what the PAYMENT-REQUIRED header of this answer asks' } }),
  };
}

/** What the client can do, in words, naming only the ways this server has. */
function remedy(details: PaymentDetails, ways: WaysToPay): string {
  const options: string[] = [];
  if (ways.buy) options.push('buy credits (see payment.buy)');
  if (ways.x402) options.push('pay this call with x402 (PAYMENT-REQUIRED header)');
  if (!ways.buy) options.push(ways.contact === undefined ? "ask this server's operator for credits" : `ask this server's operator for credits (${ways.contact})`);
  if (details.freeCallsPerDay > 0) options.push("wait for tomorrow's free calls");
  const text = options.length > 1 ? `${options.slice(0, -1).join(', ')} or ${options.at(-1)}` : options[0]!;
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** The 402 `payment_required` error (never a 429: lack of money is not a rate limit). */
export async function paymentRequired(details: PaymentDetails, ways: WaysToPay = {}, headers?: Record<string, string>): Promise<AipaygentError> {
  const { cap } = details;
  if (cap) {
    return new AipaygentError(
      'payment_required',
      `Spend cap reached: ${CAP_WORDS[cap.name]} spend cap of ${formatUsd(cap.limit)} USD does not cover this call (${formatUsd(details.price)} USD). ` +
        `It resets at ${iso(cap.resetsAt)}; buying credit does not lift it.`,
      { payment: await paymentObject(details, ways) },
      headers,
    );
  }
  const free = details.freeCallsPerDay > 0 ? `the ${details.freeCallsPerDay} free calls of today are used and ` : '';
  return new AipaygentError(
    'payment_required',
    `Payment required: ${free}this call costs ${formatUsd(details.price)} USD but the balance is ${formatUsd(details.balance)} USD. ${remedy(details, ways)}`,
    { payment: await paymentObject(details, ways) },
    headers,
  );
}
