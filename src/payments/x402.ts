// x402 v2 (HTTP transport, `exact` scheme on EVM with EIP-3009): the header codecs, requirements, and payload verification.
import { z } from 'zod';
import { getAddress, recoverTypedDataAddress, type Address, type Hex } from 'viem';
import type { PaymentsConfig } from './config.js';
import { microUsdToUnits } from './units.js';


/** One accepted way to pay (x402 `PaymentRequirements`). */
export interface PaymentRequirements {
  scheme: 'exact';
  network: string;
  amount: string;
  asset: Address;
  payTo: Address;
  maxTimeoutSeconds: number;
  extra: { name: string; version: string; assetTransferMethod: 'eip3009' };
}

export interface Authorization {
  from: Address;
  to: Address;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: Hex;
}

/** A payload that passed verification: what settlement needs. */
export interface VerifiedPayment {
  requirements: PaymentRequirements;
  /** The payload as the client sent it, forwarded verbatim to a facilitator. */
  payload: Record<string, unknown>;
  authorization: Authorization;
  signature: Hex;
  payer: Address;
  value: bigint;
  validBefore: bigint;
}

/** Reasons named after the x402 error reasons where one exists. */
export type X402Reject =
  | 'invalid_payload'
  | 'invalid_x402_version'
  | 'unsupported_scheme'
  | 'invalid_network'
  | 'invalid_exact_evm_payload_recipient_mismatch'
  | 'invalid_exact_evm_payload_authorization_value'
  | 'invalid_exact_evm_payload_authorization_valid_after'
  | 'invalid_exact_evm_payload_authorization_valid_before'
  | 'invalid_exact_evm_payload_signature'
  | 'nonce_already_used'
  | 'insufficient_funds'
  | 'settlement_failed'
  | 'settlement_unverified'
  | 'invalid_transaction_state';

export type VerifyResult = { ok: true; payment: VerifiedPayment } | { ok: false; reason: X402Reject; message: string };

const AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

const hexAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const uint = z.string().regex(/^\d{1,78}$/);
const payloadSchema = z.object({
  x402Version: z.number(),
  accepted: z.object({
    scheme: z.string(),
    network: z.string(),
    amount: uint.optional(),
    asset: hexAddress,
    payTo: hexAddress,
  }).passthrough(),
  payload: z.object({
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
    authorization: z.object({ from: hexAddress, to: hexAddress, value: uint, validAfter: uint, validBefore: uint, nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
  }),
}).passthrough();

/** base64(JSON) as every x402 v2 header carries it. */
export const encodeHeader = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

/** Decodes a PAYMENT-SIGNATURE header; undefined when it is not base64 JSON of an exact-EVM payload. */
export function decodePaymentSignature(header: string): z.infer<typeof payloadSchema> | undefined {
  if (header.length > 16_384 || !/^[A-Za-z0-9+/=_-]+$/.test(header.trim())) return undefined;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class X402Protocol {
  readonly network: string;

  constructor(private readonly config: PaymentsConfig & { tokenName: string }) {
    this.network = `eip155:${config.chainId}`;
  }

  /** The requirements for paying `microUsd`: the token amount is rounded up, never below the price. */
  requirements(microUsd: number): PaymentRequirements {
    const c = this.config;
    return {
      scheme: 'exact',
      network: this.network,
      amount: microUsdToUnits(microUsd, c.rate).toString(),
      asset: c.usdc,
      payTo: c.receiver,
      maxTimeoutSeconds: c.x402?.maxTimeoutSeconds ?? 120,
      extra: { name: c.tokenName, version: c.tokenVersion, assetTransferMethod: 'eip3009' },
    };
  }

  /** The `PaymentRequired` object of a 402 (base64 in the PAYMENT-REQUIRED header). */
  paymentRequired(microUsd: number, resource: { url: string; description: string }, error: string): Record<string, unknown> {
    return { x402Version: 2, error, resource: { ...resource, mimeType: 'application/json' }, accepts: [this.requirements(microUsd)] };
  }

  /**
   * Checks everything that can be checked off-chain: version, scheme, network, token, recipient,
   * exact amount, validity window (with `marginSeconds` left for settlement) and the EIP-712
   * signature over the token's own domain. Chain state (nonce, balance) is checked by settlement.
   */
  async verify(header: string, microUsd: number, nowMs: number, marginSeconds = 6): Promise<VerifyResult> {
    const p = decodePaymentSignature(header);
    if (!p) return { ok: false, reason: 'invalid_payload', message: 'PAYMENT-SIGNATURE is not base64 JSON of an x402 exact EVM payment payload' };
    const req = this.requirements(microUsd);
    const a = p.payload.authorization;
    const fail = (reason: X402Reject, message: string): VerifyResult => ({ ok: false, reason, message });
    if (p.x402Version !== 2) return fail('invalid_x402_version', `x402Version must be 2 (got ${p.x402Version})`);
    if (p.accepted.scheme !== 'exact') return fail('unsupported_scheme', `Only the "exact" scheme is accepted (got "${p.accepted.scheme}")`);
    if (p.accepted.network !== this.network) return fail('invalid_network', `Payments are accepted on ${this.network} only (got ${p.accepted.network})`);
    if (!same(p.accepted.asset, req.asset)) return fail('invalid_network', `The asset must be USDC at ${req.asset}`);
    if (!same(p.accepted.payTo, req.payTo) || !same(a.to, req.payTo)) return fail('invalid_exact_evm_payload_recipient_mismatch', `The authorization must pay ${req.payTo}`);
    if (BigInt(a.value) !== BigInt(req.amount)) {
      return fail('invalid_exact_evm_payload_authorization_value', `The authorization must be for exactly ${req.amount} base units (got ${a.value})`);
    }
    const nowS = BigInt(Math.floor(nowMs / 1000));
    if (BigInt(a.validAfter) >= nowS) return fail('invalid_exact_evm_payload_authorization_valid_after', 'The authorization is not valid yet (validAfter is not in the past)');
    if (BigInt(a.validBefore) <= nowS + BigInt(marginSeconds)) {
      return fail('invalid_exact_evm_payload_authorization_valid_before', `The authorization expires too soon to be settled (validBefore must be at least ${marginSeconds} s ahead)`);
    }
    const signature = p.payload.signature as Hex;
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({
        domain: { name: req.extra.name, version: req.extra.version, chainId: this.config.chainId, verifyingContract: req.asset },
        types: AUTHORIZATION_TYPES,
        primaryType: 'TransferWithAuthorization',
        message: { from: a.from as Address, to: a.to as Address, value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore), nonce: a.nonce as Hex },
        signature,
      });
    } catch {
      return fail('invalid_exact_evm_payload_signature', 'The signature cannot be recovered');
    }
    // Recovered over our domain (name, version, chain, this token): a signature for another token or chain fails here.
    if (!same(signer, a.from)) return fail('invalid_exact_evm_payload_signature', 'The signature is not a TransferWithAuthorization by authorization.from for this token');
    const authorization: Authorization = { ...a, from: getAddress(a.from), to: getAddress(a.to), nonce: a.nonce.toLowerCase() as Hex };
    return {
      ok: true,
      payment: {
        requirements: req, payload: p, authorization, signature, payer: authorization.from, value: BigInt(a.value), validBefore: BigInt(a.validBefore),
      },
    };
  }
}
