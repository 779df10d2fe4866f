// Wallet sign-up routes: a nonce, then a Sign-In with Ethereum message that opens (or signs in to) the wallet's account and returns an API key.
import { z } from 'zod';
import { AipaygentError, type ErrorCode } from '../../errors.js';
import type { Hex } from '../../payments/config.js';
import type { SignupConfig } from '../../payments/signup-config.js';
import type { ChallengeResult, SignupResult, SignupService } from '../../payments/signup.js';
import type { X402Service } from '../../payments/x402-service.js';
import { PAYMENT_REQUIRED, PAYMENT_RESPONSE } from '../../payments/x402-headers.js';
import { iso } from '../../time.js';
import * as doc from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import type { CoreRequest } from '../types.js';
import { paymentSignatureOf, resourceOf, x402Failure } from '../x402-pay-per-call.js';

export interface SignupRouteDeps {
  config: SignupConfig;
  signup: SignupService;
  /** Set when x402 is on: the fee's 402 names what to pay. */
  x402: X402Service | undefined;
}

/** Longest message accepted: an EIP-4361 message with a statement and a few resources fits well within it. */
const MAX_MESSAGE_CHARS = 8192;

const message = z
  .string({ error: (i) => (i.input === undefined ? 'message is required: the EIP-4361 (Sign-In with Ethereum) message you signed' : 'message must be a string') })
  .min(1, { error: 'message must not be empty' })
  .max(MAX_MESSAGE_CHARS, { error: `message must be at most ${MAX_MESSAGE_CHARS} characters` });
const signature = z
  .string({ error: (i) => (i.input === undefined ? 'signature is required' : 'signature must be a string') })
  .regex(/^0x(?:[0-9a-fA-F]{2}){65,8192}$/, { error: 'signature must be hex (0x…) of at least 65 bytes, as personal_sign returns it' });
const address = z
  .string({ error: 'address must be a string' })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: 'address must be an EVM address: 0x followed by 40 hex digits' });

/** 401 for every message that is well formed but proves no sign-up here: the client signs a new one. */
const PROOF_FAILURES = new Set(['wrong_domain', 'wrong_uri', 'wrong_chain', 'expired', 'not_yet_valid', 'unknown_nonce', 'nonce_expired', 'nonce_used', 'bad_signature']);
/** The sign-up message is the credential of POST /signup (RFC 9110: a 401 names its scheme). */
const SIWE_CHALLENGE = { 'www-authenticate': 'SIWE realm="aipaygent"' };

const FEE_DESCRIPTION = 'Wallet sign-up fee: opens an aipaygent account for your wallet';

function refusal(r: Exclude<SignupResult | ChallengeResult, { ok: true }>, deps: SignupRouteDeps, req: CoreRequest): AipaygentError {
  switch (r.reason) {
    case 'malformed_message':
    case 'bad_checksum':
      return new AipaygentError('invalid_request', r.message, { reason: r.reason });
    case 'rate_limited':
      return new AipaygentError('rate_limited', `Too many sign-ups from this ${r.per === 'ip' ? 'address (IP)' : 'wallet'}: at most ${r.limit} an hour; retry in ${r.retryAfterSeconds} s`, { reason: `rate_limited_${r.per}` }, {
        'retry-after': String(r.retryAfterSeconds),
      });
    case 'linked_elsewhere':
      return new AipaygentError('conflict', r.message, { reason: r.reason });
    case 'fee_required':
      return new AipaygentError('payment_required', `Opening an account costs ${r.feeMicroUsd} micro-USD, paid with x402: retry this same request with a PAYMENT-SIGNATURE header`, {
        reason: r.reason, fee_micro_usd: r.feeMicroUsd,
      }, { [PAYMENT_REQUIRED]: deps.x402!.requiredHeader(r.feeMicroUsd, resourceOf(req, '/signup'), FEE_DESCRIPTION) });
    case 'payment_failed':
      return x402Failure(r.failure, deps.x402!.requiredHeader(r.feeMicroUsd, resourceOf(req, '/signup'), FEE_DESCRIPTION, r.failure.message));
    default: {
      const code: ErrorCode = PROOF_FAILURES.has(r.reason) ? 'unauthorized' : 'invalid_request';
      return new AipaygentError(code, r.message, { reason: r.reason }, code === 'unauthorized' ? SIWE_CHALLENGE : undefined);
    }
  }
}

/** How an agent signs up, for /discover: the two calls, what the message must say, the limits and the fee. */
export function signupInstructions(config: SignupConfig, x402: boolean): Record<string, unknown> {
  return {
    standard: 'EIP-4361 (Sign-In with Ethereum), signed with personal_sign by the wallet',
    challenge: { method: 'GET', path: '/signup/challenge', query: { address: '<0x… optional: get the message ready to sign>' } },
    sign_up: { method: 'POST', path: '/signup', body: { message: '<the EIP-4361 message>', signature: '<0x… its signature>' } },
    message: { domain: config.domain, uri: config.uri ?? `any URI of ${config.domain}`, chain_id: config.chainId, version: '1', nonce: 'from GET /signup/challenge, single use' },
    nonce_ttl_seconds: config.challengeTtlMs / 1000,
    rate_limits: { per_ip_per_hour: config.perIpPerHour, per_wallet_per_hour: config.perWalletPerHour },
    fee_micro_usd: x402 ? (config.feeMicroUsd ?? 0) : 0,
    ...(x402 && config.feeMicroUsd && { fee_payment: 'x402: POST /signup answers 402 with PAYMENT-REQUIRED; retry the same request with PAYMENT-SIGNATURE' }),
    result: 'A new wallet opens an account linked to it (201); the same wallet again gets a new key for that account (200). Then buy credits from that wallet (GET /buy-credits).',
  };
}

export function signupRoutes(deps: SignupRouteDeps): Route[] {
  const { config, signup } = deps;
  const uri = config.uri ?? `https://${config.domain}`;
  return [
    route<{ address?: string }>({
      method: 'GET', path: '/signup/challenge', auth: 'none', metered: false, tags: ['Sign-up'],
      summary: 'A single-use nonce for wallet sign-up (with ?address=, the EIP-4361 message to sign); rate-limited per IP.',
      query: z.object({ address: address.optional() }),
      responses: { 200: doc.ok('The nonce, and what the message must say', doc.SignupChallenge) },
      errors: ['rate_limited'],
      async handle({ query, req, now }) {
        const c = await signup.challenge(req.ip, query.address, now);
        if (!c.ok) throw refusal(c, deps, req);
        return json(200, {
          status: 'success', nonce: c.nonce, issued_at: iso(c.issuedAt), expires_at: iso(c.expiresAt),
          domain: config.domain, uri, chain_id: config.chainId, version: '1', ...(c.message !== undefined && { message: c.message }),
        }, { 'cache-control': 'no-store' });
      },
    }),
    route<undefined, { message: string; signature: string }>({
      method: 'POST', path: '/signup', auth: 'none', metered: false, tags: ['Sign-up'],
      summary:
        'Sign up with a wallet: {message, signature}, an EIP-4361 message with a nonce of GET /signup/challenge, signed by the wallet. ' +
        'A new wallet opens an account (201), linked to it; a wallet that signed up before gets a new key for its account (200).',
      description:
        'Errors: 400 `invalid_request` when the message is not EIP-4361; 401 `unauthorized` when it proves nothing here ' +
        '(`reason`: wrong_domain, wrong_uri, wrong_chain, expired, not_yet_valid, unknown_nonce, nonce_expired, nonce_used, bad_signature: sign a new message with a new nonce); ' +
        '409 `conflict` (`linked_elsewhere`) when the wallet is linked to an account sign-up did not open; 429 per IP or per wallet; ' +
        '402 with PAYMENT-REQUIRED when a sign-up fee is set and not paid (retry the same request with PAYMENT-SIGNATURE).',
      body: z.object({ message, signature }),
      headers: ['payment-signature'],
      responses: {
        200: doc.ok('A new API key for the account this wallet opened before', doc.SignedUp, ['payment-response']),
        201: doc.ok('Account opened, wallet linked, API key issued', doc.SignedUp, ['payment-response']),
        402: doc.ok('The sign-up fee: pay what PAYMENT-REQUIRED says, then retry with PAYMENT-SIGNATURE', doc.ErrorBody, ['payment-required', 'payment-response']),
      },
      errors: ['unauthorized', 'conflict', 'rate_limited'],
      async handle({ body, req, now }) {
        const r = await signup.signUp({ message: body.message, signature: body.signature as Hex, ip: req.ip, payment: paymentSignatureOf(req) }, now);
        if (!r.ok) throw refusal(r, deps, req);
        return json(r.created ? 201 : 200, {
          status: 'success', account_id: r.accountId, address: r.address, api_key: r.key.api_key, key_id: r.key.key_id, created: r.created,
          previous_keys: r.previousKeys.map((k) => ({ key_id: k.keyId, active: k.active, created_at: iso(k.createdAt) })),
          fee_micro_usd: r.feeMicroUsd,
        }, { 'cache-control': 'no-store', ...(r.payment && { [PAYMENT_RESPONSE]: r.payment.responseHeader }) });
      },
    }),
  ];
}
