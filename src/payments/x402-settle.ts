// x402 settlement: submit the payer's EIP-3009 authorization from our relayer key, or hand it to a facilitator.
import {
  BaseError, ContractFunctionRevertedError, createWalletClient, http, parseAbi, parseSignature,
  type Hex, type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { AipaygentError } from '../errors.js';
import type { Redactor } from '../redact.js';
import type { ChainClient } from './chain.js';
import type { PaymentsConfig, X402Config } from './config.js';
import type { VerifiedPayment, X402Reject } from './x402.js';

/** `submitted: false` means nothing can have reached the chain: the nonce may be offered again. */
export type SettleOutcome = { ok: true; transaction: Hex } | { ok: false; reason: X402Reject; message: string; submitted: boolean };

export interface Settler {
  settle(payment: VerifiedPayment): Promise<SettleOutcome>;
}

export const EIP3009_ABI = parseAbi([
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function balanceOf(address account) view returns (uint256)',
]);

const upstream = (message: string, cause: unknown) => {
  const e = new AipaygentError('upstream_error', message);
  (e as { cause?: unknown }).cause = cause;
  return e;
};

/** The revert reason when `error` is a contract revert, undefined for transport faults. */
function revertReason(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) return reverted.reason ?? reverted.shortMessage;
  return undefined;
}

/** Submits `transferWithAuthorization` itself: simulated first, so a doomed authorization costs no gas. */
export class RelayerSettler implements Settler {
  private readonly wallet: WalletClient;

  constructor(private readonly chain: ChainClient, private readonly config: PaymentsConfig, key: Hex, private readonly redactor: Redactor) {
    this.wallet = createWalletClient({
      account: privateKeyToAccount(key),
      chain: chain.client.chain,
      transport: http(config.rpcUrl, { timeout: config.rpcTimeoutMs, retryCount: 0 }),
    });
  }

  async settle(p: VerifiedPayment): Promise<SettleOutcome> {
    const { v, r, s, yParity } = parseSignature(p.signature);
    const a = p.authorization;
    const args = [a.from, a.to, BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), a.nonce, Number(v ?? BigInt(yParity + 27)), r, s] as const;
    let request;
    try {
      ({ request } = await this.chain.client.simulateContract({
        account: this.wallet.account!, address: this.config.usdc, abi: EIP3009_ABI, functionName: 'transferWithAuthorization', args,
      }));
    } catch (error) {
      const reason = revertReason(error);
      if (reason !== undefined) return { ok: false, reason: 'invalid_transaction_state', message: `The token refused the authorization: ${this.redactor.text(reason)}`, submitted: false };
      throw upstream('The chain RPC failed while simulating the payment; nothing was charged. Retry shortly.', error);
    }
    try {
      return { ok: true, transaction: await this.wallet.writeContract(request) };
    } catch (error) {
      // It may or may not have reached the mempool: the nonce stays taken (the client signs a new one).
      throw upstream('The payment could not be submitted; nothing was served. Retry with a new authorization.', error);
    }
  }
}

/** Calls `POST {facilitatorUrl}/settle` (x402 v2 facilitator API). Its answer is checked on-chain afterwards. */
export class FacilitatorSettler implements Settler {
  constructor(private readonly x402: X402Config & { facilitatorUrl: string }, private readonly redactor: Redactor) {}

  async settle(p: VerifiedPayment): Promise<SettleOutcome> {
    let res: Response;
    try {
      res = await fetch(`${this.x402.facilitatorUrl}/settle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.x402.facilitatorHeaders },
        body: JSON.stringify({ x402Version: 2, paymentPayload: p.payload, paymentRequirements: p.requirements }),
        signal: AbortSignal.timeout(this.x402.maxTimeoutSeconds * 1000),
      });
    } catch (error) {
      throw upstream('The x402 facilitator did not answer; nothing was served. Retry with a new authorization.', error);
    }
    const body = (await res.json().catch(() => undefined)) as { success?: unknown; transaction?: unknown; errorReason?: unknown } | undefined;
    if (body?.success === true && typeof body.transaction === 'string' && /^0x[0-9a-fA-F]{64}$/.test(body.transaction)) {
      return { ok: true, transaction: body.transaction.toLowerCase() as Hex };
    }
    // The facilitator's words reach the client: scrubbed whole first, so a cut cannot leave half a secret behind.
    const why = typeof body?.errorReason === 'string' ? this.redactor.text(body.errorReason).slice(0, 200) : `HTTP ${res.status}`;
    return { ok: false, reason: 'settlement_failed', message: `The facilitator did not settle the payment (${why})`, submitted: true };
  }
}

/** The facilitator when one is configured, else the relayer key. */
export function createSettler(chain: ChainClient, config: PaymentsConfig, redactor: Redactor): Settler | undefined {
  const x = config.x402;
  if (!x) return undefined;
  if (x.facilitatorUrl) return new FacilitatorSettler({ ...x, facilitatorUrl: x.facilitatorUrl }, redactor);
  return new RelayerSettler(chain, config, x.relayerKey!, redactor);
}
