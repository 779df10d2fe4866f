// x402 payments end to end: verify, take the nonce once, settle, confirm the transfer on-chain, credit the account.
import { parseAbi, parseEventLogs, type Hex } from 'viem';
import type { Store } from '../storage/contract.js';
import { checkReceipt, classifyTransfers, type ChainClient } from './chain.js';
import type { PaymentsConfig } from './config.js';
import type { PurchaseService } from './purchases.js';
import { unitsToMicroUsd } from './units.js';
import { EIP3009_ABI, type Settler } from './x402-settle.js';
import { encodeHeader, X402Protocol, type X402Reject } from './x402.js';

const AUTHORIZATION_USED = parseAbi(['event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)']);

export type X402PayResult =
  | { ok: true; creditedMicroUsd: number; balance: number; transaction: Hex; payer: string; responseHeader: string }
  | { ok: false; reason: X402Reject; message: string; payer?: string; responseHeader: string };

export class X402Service {
  readonly protocol: X402Protocol;

  constructor(
    private readonly store: Store,
    private readonly chain: ChainClient,
    private readonly purchases: PurchaseService,
    private readonly config: PaymentsConfig & { tokenName: string },
    private readonly settler: Settler,
  ) {
    this.protocol = new X402Protocol(config);
  }

  /** The PAYMENT-REQUIRED header value for paying `microUsd` for the resource at `url`. */
  requiredHeader(microUsd: number, url: string, description: string, error = 'PAYMENT-SIGNATURE header is required'): string {
    return encodeHeader(this.protocol.paymentRequired(microUsd, { url, description }, error));
  }

  private failure(reason: X402Reject, message: string, payer?: string): X402PayResult {
    const responseHeader = encodeHeader({ success: false, errorReason: reason, transaction: '', network: this.protocol.network, ...(payer ? { payer } : {}) });
    return { ok: false, reason, message, payer, responseHeader };
  }

  /**
   * Pays `microUsd` into `accountId` with the PAYMENT-SIGNATURE `header`. Nothing is credited
   * (so nothing can be served) before the transfer is read back from the chain. The nonce is
   * claimed globally before settlement, so one authorization is never accepted twice, even by
   * concurrent requests; it is released only when nothing can have reached the chain.
   */
  async pay(accountId: string, header: string, microUsd: number, now: number): Promise<X402PayResult> {
    const verified = await this.protocol.verify(header, microUsd, now);
    if (!verified.ok) return this.failure(verified.reason, verified.message);
    const p = verified.payment;
    await this.chain.ensureChain();
    const nonceKey = `x402:${this.config.chainId}:${p.payer.toLowerCase()}:${p.authorization.nonce}`;
    const claimUntil = (Number(p.validBefore) + 3600) * 1000;
    const claim = await this.store.claim(null, nonceKey, accountId, Number.isSafeInteger(claimUntil) ? claimUntil : null, now);
    if (!claim.inserted) return this.failure('nonce_already_used', 'This authorization (nonce) was already presented', p.payer);

    let submitted = false;
    try {
      const [balance, used] = await this.chain.rpc('reading the payer', (c) =>
        Promise.all([
          c.readContract({ address: this.config.usdc, abi: EIP3009_ABI, functionName: 'balanceOf', args: [p.payer] }),
          c.readContract({ address: this.config.usdc, abi: EIP3009_ABI, functionName: 'authorizationState', args: [p.payer, p.authorization.nonce] }),
        ]),
      );
      if (used) {
        submitted = true; // used on-chain already: keep the claim
        return this.failure('nonce_already_used', 'This authorization was already used on-chain', p.payer);
      }
      if (balance < p.value) return this.failure('insufficient_funds', `The payer holds ${balance} base units, ${p.value} are needed`, p.payer);
      const settled = await this.settler.settle(p).catch((error: unknown) => {
        submitted = true;
        throw error;
      });
      submitted = !settled.ok ? settled.submitted : true;
      if (!settled.ok) return this.failure(settled.reason, settled.message, p.payer);
      return await this.confirmAndCredit(accountId, settled.transaction, p.payer, p.authorization.nonce, p.value, now);
    } finally {
      if (!submitted) await this.store.releaseClaim(null, nonceKey);
    }
  }

  /** Reads the settlement back from our own RPC: a facilitator's word is never enough. */
  private async confirmAndCredit(accountId: string, transaction: Hex, payer: string, nonce: Hex, value: bigint, now: number): Promise<X402PayResult> {
    const timeout = (this.config.x402?.maxTimeoutSeconds ?? 120) * 1000;
    const receipt = checkReceipt(
      await this.chain.rpc('waiting for the settlement', (c) => c.waitForTransactionReceipt({ hash: transaction, timeout, pollingInterval: 250 })),
      transaction, 'waiting for the settlement',
    );
    if (receipt.status !== 'success') return this.failure('settlement_failed', `The settlement transaction ${transaction} reverted`, payer);
    // The token's AuthorizationUsed(payer, nonce) ties the transaction to this very authorization,
    // so an unrelated transfer (say, a replayed older one) is never taken for this payment.
    const usdc = this.config.usdc.toLowerCase();
    const used = parseEventLogs({ abi: AUTHORIZATION_USED, logs: receipt.logs.filter((l) => l.address.toLowerCase() === usdc), strict: true });
    if (!used.some((l) => l.args.authorizer.toLowerCase() === payer.toLowerCase() && l.args.nonce.toLowerCase() === nonce)) {
      return this.failure('settlement_unverified', `Transaction ${transaction} does not use this authorization`, payer);
    }
    const seen = classifyTransfers(receipt, this.config.usdc, this.config.receiver);
    const match = seen.kind === 'mined' ? seen.transfers.find((t) => t.from.toLowerCase() === payer.toLowerCase() && t.value === value) : undefined;
    if (!match) return this.failure('settlement_unverified', `Transaction ${transaction} does not transfer ${value} USDC units from ${payer} to the receiver`, payer);
    const microUsd = unitsToMicroUsd(value, this.config.rate);
    if (microUsd === undefined) return this.failure('invalid_exact_evm_payload_authorization_value', 'The amount is too large to credit', payer);
    const credited = await this.purchases.credit(accountId, transaction, [{ ...match, microUsd }], now);
    if (credited.status !== 'credited' || !credited.transfers[0]?.creditedNow) {
      return this.failure('settlement_unverified', `Transaction ${transaction} was already credited`, payer);
    }
    const responseHeader = encodeHeader({ success: true, transaction, network: this.protocol.network, payer, amount: value.toString() });
    return { ok: true, creditedMicroUsd: credited.creditedMicroUsd, balance: credited.balance, transaction, payer, responseHeader };
  }
}
