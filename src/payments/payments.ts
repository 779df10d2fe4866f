// Builds the payment services from their config: one chain client shared by wallet linking, purchases and x402.
import type { Notifier } from '../observe/webhooks/notifier.js';
import { getAddress } from 'viem';
import type { UsageRecorder } from '../meter/usage.js';
import { StartupError } from '../optional.js';
import { createRedactor, type Redactor } from '../redact.js';
import type { Store } from '../storage/contract.js';
import { ChainClient } from './chain.js';
import type { PaymentsConfig } from './config.js';
import { PurchaseService } from './purchases.js';
import { checksummed, WalletService } from './wallets.js';
import { createSettler } from './x402-settle.js';
import { X402Service } from './x402-service.js';

export interface Payments {
  config: PaymentsConfig;
  chain: ChainClient;
  wallets: WalletService;
  purchases: PurchaseService;
  /** Set when `payments.x402` is configured. */
  x402: X402Service | undefined;
}

/**
 * Loaded by createAipaygent once `payments` is configured and viem is installed (ready rejects otherwise).
 * `redactor` scrubs what the chain, the relayer's node or the facilitator say before a client or a log reads it;
 * `usage` counts purchases in the accounts' usage.
 */
export function createPayments(store: Store, config: PaymentsConfig, redactor: Redactor = createRedactor([]), usage?: UsageRecorder, notifier?: Notifier): Payments {
  checksumAddresses(config);
  const chain = new ChainClient(config);
  const wallets = new WalletService(store, chain, { chainId: config.chainId, challengeTtlMs: config.challengeTtlMs });
  const purchases = new PurchaseService(store, chain, wallets, config, usage, notifier);
  const settler = createSettler(chain, config, redactor);
  // parsePayments guarantees a token name whenever x402 is on.
  const x402 = settler && config.tokenName ? new X402Service(store, chain, purchases, { ...config, tokenName: config.tokenName }, settler) : undefined;
  return { config, chain, wallets, purchases, x402 };
}

/** The addresses in their EIP-55 form, as shown to payers; a mixed-case address with a wrong checksum is a typo. */
function checksumAddresses(config: PaymentsConfig): void {
  for (const [name, field] of [['receiver', 'receiver'], ['usdcAddress', 'usdc']] as const) {
    const given = config[field];
    const sum = checksummed(given);
    if (!sum) throw new StartupError(`aipaygent: payments.${name} ${given} has a wrong EIP-55 checksum (expected ${getAddress(given.toLowerCase())}): check the address`);
    config[field] = sum;
  }
}
