// Payment options (USDC purchases verified on-chain, wallet linking, x402) and their validation into PaymentsConfig.
import { urlSecrets } from '../redact.js';
import { parseRate, type Rate } from './units.js';

/** An EVM address or hex string, as viem types them (no import: viem loads only when payments start). */
export type Address = `0x${string}`;
export type Hex = `0x${string}`;

/** Options of `payments`: set them to sell credits for USDC. */
export interface PaymentsOptions {
  /** The operator's address that receives USDC. Required. */
  receiver: string;
  /**
   * EVM chain id: 8453 is Base, 84532 Base Sepolia; any EVM chain works with `rpcUrl` and `usdcAddress`.
   * @default 8453
   */
  chainId?: number;
  /**
   * JSON-RPC endpoint the transactions are read from (and x402 authorizations submitted to).
   * @default "https://mainnet.base.org" on 8453, "https://sepolia.base.org" on 84532, required elsewhere
   */
  rpcUrl?: string;
  /**
   * The USDC contract. Only Transfer logs emitted by this address are credited.
   * @default Circle's USDC on 8453 (0x8335…2913) and 84532 (0x036C…CF7e), required elsewhere
   */
  usdcAddress?: string;
  /** Decimals of the token. @default 6 */
  decimals?: number;
  /**
   * micro-USD credited per token base unit, a positive decimal (number or string, e.g. "0.5").
   * With USDC (6 decimals) 1 credits one micro-USD per base unit, i.e. $1 per USDC.
   * @default 1
   */
  rate?: number | string;
  /** Smallest transfer credited, in token base units (integer, number or decimal string). @default 10000 (0.01 USDC) */
  minAmount?: number | string;
  /** Blocks a transfer needs (its own included) before it is credited. @default 3 */
  confirmations?: number;
  /** Timeout of one RPC request, in ms. @default 10000 */
  rpcTimeoutMs?: number;
  /** Lifetime of a wallet-link challenge, in seconds. @default 600 */
  challengeTtlSeconds?: number;
  /**
   * EIP-712 domain name of the token, signed by x402 (EIP-3009) payers.
   * @default "USD Coin" on 8453, "USDC" on 84532, required elsewhere for x402
   */
  tokenName?: string;
  /** EIP-712 domain version of the token. @default "2" */
  tokenVersion?: string;
  /** x402 (HTTP 402 pay-per-call, `exact` scheme): on when a relayer key or a facilitator URL is set. */
  x402?: {
    /**
     * Private key (0x + 64 hex) of an account holding gas on the chain: it submits the payers'
     * `transferWithAuthorization` itself. Used when no facilitator is set.
     * @default undefined
     */
    relayerKey?: string;
    /** Base URL of an x402 facilitator (its `/settle` is called). Takes precedence over `relayerKey`. @default undefined */
    facilitatorUrl?: string;
    /** Extra headers sent to the facilitator (e.g. an API key). @default {} */
    facilitatorHeaders?: Record<string, string>;
    /** `maxTimeoutSeconds` offered to payers: how long settlement may take. @default 120 */
    maxTimeoutSeconds?: number;
  };
}

export interface X402Config {
  relayerKey: Hex | undefined;
  facilitatorUrl: string | undefined;
  facilitatorHeaders: Record<string, string>;
  maxTimeoutSeconds: number;
}

/** Validated payment settings. */
export interface PaymentsConfig {
  chainId: number;
  rpcUrl: string;
  usdc: Address;
  decimals: number;
  receiver: Address;
  rate: Rate;
  minAmount: bigint;
  confirmations: number;
  rpcTimeoutMs: number;
  challengeTtlMs: number;
  tokenName: string | undefined;
  tokenVersion: string;
  x402: X402Config | undefined;
}

/** Known chains: default RPC, USDC and its EIP-712 name. */
const KNOWN: Record<number, { rpcUrl: string; usdc: Address; tokenName: string }> = {
  8453: { rpcUrl: 'https://mainnet.base.org', usdc: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', tokenName: 'USD Coin' },
  84532: { rpcUrl: 'https://sepolia.base.org', usdc: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', tokenName: 'USDC' },
};

const INTEGER = /^\d{1,78}$/;

/** Validates `payments`; pushes every problem to `problems` (the caller throws once). */
export function parsePayments(options: PaymentsOptions | undefined, problems: string[]): PaymentsConfig | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    problems.push('payments must be an object');
    return undefined;
  }
  const p = (s: string) => problems.push(`payments.${s}`);
  const int = (name: string, v: number | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || v < min || v > max) p(`${name} must be an integer between ${min} and ${max} (got ${String(v)})`);
    return v;
  };
  // Syntax only here; the EIP-55 checksum form is made when the payments module loads (createPayments).
  const address = (name: string, v: string | undefined): Address | undefined => {
    if (typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v)) return v as Address;
    p(`${name} must be an EVM address (0x + 40 hex)${v === undefined ? ', it is required' : ''}`);
    return undefined;
  };
  const chainId = int('chainId', options.chainId, 8453, 1, 2 ** 32);
  const known = KNOWN[chainId];
  const rpcUrl = options.rpcUrl ?? known?.rpcUrl;
  if (typeof rpcUrl !== 'string' || !/^https?:\/\//.test(rpcUrl)) p(`rpcUrl must be an http(s) URL${known ? '' : ` (required on chain ${chainId})`}`);
  const usdc = address('usdcAddress', options.usdcAddress ?? known?.usdc);
  const receiver = address('receiver', options.receiver);
  const rate = parseRate(options.rate ?? 1);
  if (!rate) p('rate must be a positive decimal number or string, e.g. 1 or "0.000001"');
  const rawMin = options.minAmount ?? 10_000;
  const minText = typeof rawMin === 'number' && Number.isSafeInteger(rawMin) ? String(rawMin) : rawMin;
  if (typeof minText !== 'string' || !INTEGER.test(minText)) p('minAmount must be a non-negative integer number of token base units');
  const x = options.x402;
  let x402: X402Config | undefined;
  if (x !== undefined) {
    if (x.relayerKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(x.relayerKey)) p('x402.relayerKey must be a private key (0x + 64 hex)');
    if (x.facilitatorUrl !== undefined && !/^https?:\/\//.test(x.facilitatorUrl)) p('x402.facilitatorUrl must be an http(s) URL');
    if (x.relayerKey === undefined && x.facilitatorUrl === undefined) p('x402 needs relayerKey or facilitatorUrl to settle payments');
    x402 = {
      relayerKey: x.relayerKey as Hex | undefined,
      facilitatorUrl: x.facilitatorUrl?.replace(/\/+$/, ''),
      facilitatorHeaders: x.facilitatorHeaders ?? {},
      maxTimeoutSeconds: int('x402.maxTimeoutSeconds', x.maxTimeoutSeconds, 120, 10, 3600),
    };
  }
  const tokenName = options.tokenName ?? known?.tokenName;
  if (x402 && !tokenName) p(`tokenName (the token's EIP-712 domain name) is required for x402 on chain ${chainId}`);
  const config: PaymentsConfig = {
    chainId,
    rpcUrl: rpcUrl as string,
    usdc: usdc as Address,
    decimals: int('decimals', options.decimals, 6, 0, 36),
    receiver: receiver as Address,
    rate: rate as Rate,
    minAmount: typeof minText === 'string' && INTEGER.test(minText) ? BigInt(minText) : 0n,
    confirmations: int('confirmations', options.confirmations, 3, 1, 10_000),
    rpcTimeoutMs: int('rpcTimeoutMs', options.rpcTimeoutMs, 10_000, 100, 600_000),
    challengeTtlMs: int('challengeTtlSeconds', options.challengeTtlSeconds, 600, 1, 86_400) * 1000,
    tokenName,
    tokenVersion: options.tokenVersion ?? '2',
    x402,
  };
  return config;
}

/** The secrets of the payment settings (RPC credentials, relayer key, facilitator headers), for the redactor. */
export function paymentSecrets(p: PaymentsConfig): Array<string | undefined> {
  const out: Array<string | undefined> = [...urlSecrets(p.rpcUrl)];
  const x = p.x402;
  if (x) {
    out.push(x.relayerKey, x.relayerKey?.slice(2), ...urlSecrets(x.facilitatorUrl));
    // A header value, and its credential without the scheme ("Bearer <token>").
    for (const v of Object.values(x.facilitatorHeaders)) out.push(v, typeof v === 'string' ? v.replace(/^\S+\s+/, '') : undefined);
  }
  return out;
}
