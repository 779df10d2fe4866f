// Payment routes: buy instructions, USDC purchase by tx hash, wallet challenge and linking.
import { z } from 'zod';
import { AipaygentError, type ErrorCode } from '../../errors.js';
import type { Hex, PaymentsConfig } from '../../payments/config.js';
import type { PurchaseResult, PurchaseService, RejectReason } from '../../payments/purchases.js';
import { formatUnitsText, unitsToMicroUsd } from '../../payments/units.js';
import type { LinkResult, WalletService } from '../../payments/wallets.js';
import type { X402Service } from '../../payments/x402-service.js';
import { PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE } from '../../payments/x402-headers.js';
import type { CoreRequest } from '../types.js';
import { paymentSignatureOf, resourceOf, x402Failure } from '../x402-pay-per-call.js';
import { iso } from '../../time.js';
import * as doc from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

export interface PaymentRouteDeps {
  config: PaymentsConfig;
  purchases: PurchaseService;
  wallets: WalletService;
  x402: X402Service | undefined;
}

const txHash = z
  .string({ error: (i) => (i.input === undefined ? 'tx_hash is required' : 'tx_hash must be a string') })
  .regex(/^0x[0-9a-fA-F]{64}$/, { error: 'tx_hash must be a transaction hash: 0x followed by 64 hex digits' });
const address = z
  .string({ error: (i) => (i.input === undefined ? 'address is required' : 'address must be a string') })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: 'address must be an EVM address: 0x followed by 40 hex digits' });
const signature = z
  .string({ error: (i) => (i.input === undefined ? 'signature is required' : 'signature must be a string') })
  .regex(/^0x(?:[0-9a-fA-F]{2}){65,8192}$/, { error: 'signature must be hex (0x…) of at least 65 bytes, as personal_sign returns it' });

const topUp = z
  .number({ error: 'amount_micro_usd must be an integer number of micro-USD' })
  .int({ error: 'amount_micro_usd must be an integer number of micro-USD' })
  .positive({ error: 'amount_micro_usd must be positive' })
  .max(Number.MAX_SAFE_INTEGER, { error: 'amount_micro_usd is too large' });

/** x402 top-up: 402 with PAYMENT-REQUIRED, then, with PAYMENT-SIGNATURE, settled and credited before answering. */
async function x402TopUp(deps: PaymentRouteDeps, accountId: string, microUsd: number, req: CoreRequest, now: number) {
  const { x402, config } = deps;
  if (!x402) throw new AipaygentError('invalid_request', 'x402 top-ups are not enabled on this server: transfer USDC and send {tx_hash}');
  const units = x402.protocol.requirements(microUsd).amount;
  if (BigInt(units) < config.minAmount) {
    throw new AipaygentError('invalid_request', `amount_micro_usd is below the minimum purchase (${unitsToMicroUsd(config.minAmount, config.rate)} micro-USD)`);
  }
  const description = `Top up ${microUsd} micro-USD of aipaygent credits`;
  const resource = resourceOf(req, '/buy-credits');
  const header = paymentSignatureOf(req);
  if (!header) {
    throw new AipaygentError('payment_required', `Pay ${units} USDC base units with x402: retry with a PAYMENT-SIGNATURE header`, undefined, {
      [PAYMENT_REQUIRED]: x402.requiredHeader(microUsd, resource, description),
    });
  }
  const paid = await x402.pay(accountId, header, microUsd, now);
  if (!paid.ok) throw x402Failure(paid, x402.requiredHeader(microUsd, resource, description, paid.message));
  return json(200, { status: 'success', credited_micro_usd: paid.creditedMicroUsd, balance_micro_usd: paid.balance, tx_hash: paid.transaction, payer: paid.payer }, {
    [PAYMENT_RESPONSE]: paid.responseHeader,
  });
}

const REJECTIONS: Record<RejectReason, { code: ErrorCode; message: (detail?: string) => string }> = {
  tx_not_found: { code: 'not_found', message: () => 'No such transaction on this chain (unknown hash, or not yet seen by the node): check the hash and the network' },
  tx_reverted: { code: 'invalid_request', message: () => 'The transaction reverted: it moved no USDC' },
  wrong_token: { code: 'invalid_request', message: () => 'The transaction has no Transfer of the accepted USDC contract (another token, or a look-alike, credits nothing)' },
  wrong_receiver: { code: 'invalid_request', message: () => 'The transaction transfers USDC, but not to the receiving address of GET /buy-credits' },
  sender_not_linked: {
    code: 'forbidden',
    message: (from) => `The sending wallet ${from ?? ''} is not linked to this account: link it (GET /wallets/challenge, then POST /wallets/link) and submit again`,
  },
  below_minimum: { code: 'invalid_request', message: (units) => `The transfer (${units} base units) is below the minimum purchase` },
  amount_too_large: { code: 'invalid_request', message: () => 'The transferred amount is too large to credit in one purchase' },
  credited_to_another_account: { code: 'conflict', message: () => 'This transfer was already credited to another account' },
};

function purchaseResponse(result: PurchaseResult, hash: string) {
  if (result.status === 'pending') {
    return json(202, { status: 'pending', tx_hash: hash, confirmations: result.confirmations, required: result.required,
      message: `Waiting for confirmations (${result.confirmations} of ${result.required}); submit the same tx_hash again shortly` });
  }
  if (result.status === 'rejected') {
    const r = REJECTIONS[result.reason];
    throw new AipaygentError(r.code, r.message(result.detail), { reason: result.reason });
  }
  return json(200, {
    status: 'success',
    tx_hash: hash,
    credited_micro_usd: result.creditedMicroUsd,
    already_credited_micro_usd: result.alreadyCreditedMicroUsd,
    balance_micro_usd: result.balance,
    transfers: result.transfers.map((t) => ({
      log_index: t.logIndex, from: t.from, amount_base_units: t.units.toString(), amount_micro_usd: t.microUsd, credited_now: t.creditedNow,
    })),
  });
}

const LINK_ERRORS: Record<Exclude<LinkResult, { ok: true }>['reason'], { code: ErrorCode; message: string }> = {
  bad_checksum: { code: 'invalid_request', message: 'address is mixed-case with a wrong EIP-55 checksum (a typo?): check it, or send it in lower case' },
  no_challenge: { code: 'conflict', message: 'No pending challenge for this account (never asked, or already used): GET /wallets/challenge first' },
  challenge_expired: { code: 'conflict', message: 'The challenge expired: GET /wallets/challenge for a new one' },
  bad_signature: { code: 'invalid_request', message: 'The signature is not a personal_sign of the current challenge by this address' },
  challenge_used: { code: 'conflict', message: 'The challenge was just used by another request: GET /wallets/challenge for a new one' },
  linked_elsewhere: { code: 'conflict', message: 'This wallet is already linked to another account' },
};

/** The machine-readable instructions of GET /buy-credits (also merged into every 402's `payment.buy`). */
export function buyInstructions(config: PaymentsConfig): Record<string, unknown> {
  const min = config.minAmount;
  return {
    network: `eip155:${config.chainId}`,
    chain_id: config.chainId,
    token: { symbol: 'USDC', address: config.usdc, decimals: config.decimals },
    receiver: config.receiver,
    rate_micro_usd_per_base_unit: config.rate.text,
    minimum_amount_base_units: min.toString(),
    minimum_amount: formatUnitsText(min, config.decimals),
    minimum_micro_usd: unitsToMicroUsd(min, config.rate) ?? null,
    confirmations_required: config.confirmations,
    link_wallet: {
      why: 'Only transfers sent from a wallet linked to your account credit it',
      challenge: { method: 'GET', path: '/wallets/challenge', auth: 'api key' },
      link: { method: 'POST', path: '/wallets/link', body: { address: '<0x… your wallet>', signature: '<personal_sign (EIP-191) of the challenge>' } },
    },
    ...(config.x402 && {
      x402: {
        version: 2, scheme: 'exact', network: `eip155:${config.chainId}`, headers: [PAYMENT_REQUIRED, PAYMENT_SIGNATURE, PAYMENT_RESPONSE].map((h) => h.toUpperCase()),
        top_up: { method: 'POST', path: '/buy-credits', body: { amount_micro_usd: '<integer>' }, note: 'answered 402 with PAYMENT-REQUIRED; retry with PAYMENT-SIGNATURE' },
        metered_calls: 'a metered call the balance cannot pay is answered 402 with PAYMENT-REQUIRED for its price; retry it with PAYMENT-SIGNATURE',
      },
    }),
    steps: [
      'Link the wallet you pay from: GET /wallets/challenge, sign the challenge with personal_sign, POST /wallets/link {address, signature}',
      `Transfer USDC (${config.usdc}) on chain ${config.chainId} from that wallet to ${config.receiver}`,
      `POST /buy-credits {"tx_hash": "0x…"}: 202 while below ${config.confirmations} confirmation(s), then 200 with the credited amount`,
    ],
  };
}

export function paymentRoutes(deps: PaymentRouteDeps): Route[] {
  const { config, purchases, wallets } = deps;
  return [
    route({
      method: 'GET', path: '/buy-credits', auth: 'none', metered: false,
      summary: 'How to buy credits with USDC: chain, token, receiver, rate, minimum, confirmations, wallet linking.',
      tags: ['Payments'],
      responses: { 200: doc.ok('Machine-readable buy instructions', doc.BuyInstructions) },
      async handle() {
        return json(200, { status: 'success', ...buyInstructions(config) });
      },
    }),
    route({
      method: 'POST', path: '/buy-credits', auth: 'key', scope: 'payments', metered: false,
      summary: 'Credit a USDC transfer verified on-chain ({tx_hash}: 200 credited, 202 pending, 4xx rejected), or top up with x402 ({amount_micro_usd}).',
      body: z
        .object({ tx_hash: txHash.optional(), amount_micro_usd: topUp.optional() })
        .refine((b) => (b.tx_hash === undefined) !== (b.amount_micro_usd === undefined), {
          error: 'Give exactly one of tx_hash (a USDC transfer to credit) or amount_micro_usd (an x402 top-up)',
        }),
      tags: ['Payments'],
      headers: ['payment-signature'],
      responses: {
        200: doc.ok('Credited: a verified transfer, or an x402 top-up (with PAYMENT-RESPONSE)', z.union([doc.PurchaseCredited, doc.TopUpCredited]), ['payment-response']),
        202: doc.ok('Seen on-chain, waiting for confirmations: submit the same tx_hash again shortly', doc.PurchasePending),
        402: doc.ok('x402 top-up: pay what PAYMENT-REQUIRED says, then retry with PAYMENT-SIGNATURE', doc.ErrorBody, ['payment-required', 'payment-response']),
      },
      errors: ['forbidden', 'not_found', 'conflict'],
      async handle({ body, caller, now, req }) {
        if (body.amount_micro_usd !== undefined) return x402TopUp(deps, caller.accountId, body.amount_micro_usd, req, now);
        const hash = body.tx_hash!.toLowerCase() as Hex;
        return purchaseResponse(await purchases.submit(caller.accountId, hash, now), hash);
      },
    }),
    route({
      method: 'GET', path: '/wallets/challenge', auth: 'key', scope: 'payments', metered: false,
      summary: 'A single-use, expiring message to sign (personal_sign) with the wallet to link.',
      tags: ['Payments'],
      responses: { 200: doc.ok('The challenge', doc.WalletChallenge) },
      async handle({ caller, now }) {
        const c = await wallets.challenge(caller.accountId, now);
        return json(200, { status: 'success', challenge: c.message, expires_at: iso(c.expiresAt), chain_id: config.chainId });
      },
    }),
    route({
      method: 'POST', path: '/wallets/link', auth: 'key', scope: 'payments', metered: false,
      summary: 'Link a wallet to the account with its signature of the current challenge.',
      body: z.object({ address, signature }),
      tags: ['Payments'],
      responses: { 200: doc.ok('Already linked to this account', doc.WalletLinked), 201: doc.ok('Linked', doc.WalletLinked) },
      errors: ['conflict'],
      async handle({ body, caller, now }) {
        const r = await wallets.link(caller.accountId, body.address, body.signature as Hex, now);
        if (!r.ok) {
          const e = LINK_ERRORS[r.reason];
          throw new AipaygentError(e.code, e.message, { reason: r.reason });
        }
        return json(r.alreadyLinked ? 200 : 201, { status: 'success', address: r.address, linked: true, already_linked: r.alreadyLinked });
      },
    }),
    route({
      method: 'GET', path: '/wallets', auth: 'key', scope: 'payments', metered: false,
      summary: 'The wallets linked to the account.',
      tags: ['Payments'],
      responses: { 200: doc.ok('The linked wallets', doc.WalletList) },
      async handle({ caller, now }) {
        const list = await wallets.list(caller.accountId, now);
        return json(200, { status: 'success', wallets: list.map((w) => ({ address: w.address, linked_at: iso(w.linkedAt) })) });
      },
    }),
  ];
}

/** When no payments are configured, GET /buy-credits still answers, precisely. */
export function paymentsDisabledRoutes(): Route[] {
  return [
    route({
      method: 'GET', path: '/buy-credits', auth: 'none', metered: false,
      summary: 'Credit purchases are not enabled on this server.',
      tags: ['Payments'],
      responses: {},
      errors: ['not_found'],
      async handle() {
        throw new AipaygentError('not_found', 'Credit purchases are not enabled on this server (no payments configured); ask the operator for credits');
      },
    }),
  ];
}
