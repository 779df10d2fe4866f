// Wallet sign-up options (agents open an account with a Sign-In with Ethereum message), validated into SignupConfig, and read from the environment.
import { envReader } from '../env-read.js';
import type { PaymentsConfig } from './config.js';

/** Options of `signup`: agents open their own account by signing an EIP-4361 message with their wallet. */
export interface SignupOptions {
  /** false keeps sign-up off while the object stays in the configuration. @default true */
  enabled?: boolean;
  /**
   * The domain (RFC 3986 authority: host, and port when not the default) clients reach this server at,
   * as the SIWE message must name it, e.g. "api.example.com". Required: a Host header is never trusted
   * for it, else a message signed for another site could open an account here.
   */
  domain: string;
  /**
   * The exact URI a message must name. By default any URI whose authority is `domain` is accepted.
   * @default undefined
   */
  uri?: string;
  /** Lifetime of a sign-up nonce (GET /signup/challenge), in seconds. @default 600 */
  challengeTtlSeconds?: number;
  /** Sign-ups per client IP (IPv6: per /64) per hour; challenges are counted the same, apart. @default 10 */
  perIpPerHour?: number;
  /** Sign-ups (new account or new key) per wallet per hour. @default 5 */
  perWalletPerHour?: number;
  /**
   * Fee to open an account, in micro-USD, paid with x402 (needs `payments.x402`): POST /signup answers
   * 402 with PAYMENT-REQUIRED until it is paid. New keys for an existing account are free.
   * @default undefined (free)
   */
  feeMicroUsd?: number;
}

/** Validated sign-up settings. */
export interface SignupConfig {
  domain: string;
  uri: string | undefined;
  /** The chain id a message must name: the payments chain. */
  chainId: number;
  challengeTtlMs: number;
  perIpPerHour: number;
  perWalletPerHour: number;
  feeMicroUsd: number | undefined;
}

/** host, host:port, [v6]:port: what EIP-4361 calls the domain (an RFC 3986 authority without user info). */
const AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Validates `signup` against the payments it needs; pushes every problem to `problems`. */
export function parseSignup(options: SignupOptions | undefined, payments: PaymentsConfig | undefined, problems: string[]): SignupConfig | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    problems.push('signup must be an object');
    return undefined;
  }
  if (options.enabled === false) return undefined;
  const p = (s: string) => problems.push(`signup.${s}`);
  if (options.enabled !== undefined && options.enabled !== true) p('enabled must be true or false');
  const int = (name: string, v: number | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || v < min || v > max) p(`${name} must be an integer between ${min} and ${max} (got ${String(v)})`);
    return v;
  };
  if (typeof options.domain !== 'string' || !AUTHORITY.test(options.domain)) {
    p(`domain must be the host (and port) clients reach this server at, e.g. "api.example.com"${options.domain === undefined ? ': it is required' : ''}`);
  }
  if (options.uri !== undefined && (typeof options.uri !== 'string' || !URL.canParse(options.uri))) p('uri must be an absolute URI, e.g. "https://api.example.com"');
  if (!payments) problems.push('signup needs payments (its chain verifies the wallets, and the account is linked to the wallet that pays): set payments.receiver');
  const feeMicroUsd = options.feeMicroUsd === undefined ? undefined : int('feeMicroUsd', options.feeMicroUsd, 0, 1, 1_000_000_000_000);
  if (feeMicroUsd !== undefined && payments && !payments.x402) p('feeMicroUsd is paid with x402: set payments.x402 (a relayerKey or a facilitatorUrl)');
  return {
    domain: options.domain,
    uri: options.uri,
    chainId: payments?.chainId ?? 0,
    challengeTtlMs: int('challengeTtlSeconds', options.challengeTtlSeconds, 600, 1, 86_400) * 1000,
    perIpPerHour: int('perIpPerHour', options.perIpPerHour, 10, 1, 1_000_000),
    perWalletPerHour: int('perWalletPerHour', options.perWalletPerHour, 5, 1, 1_000_000),
    feeMicroUsd,
  };
}

const VARS = ['AIPAYGENT_SIGNUP_URI', 'AIPAYGENT_SIGNUP_CHALLENGE_TTL_SECONDS', 'AIPAYGENT_SIGNUP_PER_IP_PER_HOUR', 'AIPAYGENT_SIGNUP_PER_WALLET_PER_HOUR', 'AIPAYGENT_SIGNUP_FEE_MICRO_USD'];

/** Reads AIPAYGENT_SIGNUP_DOMAIN (turns sign-up on), _URI, _CHALLENGE_TTL_SECONDS, _PER_IP_PER_HOUR, _PER_WALLET_PER_HOUR, _FEE_MICRO_USD. */
export function signupFromEnv(env: NodeJS.ProcessEnv): SignupOptions | undefined {
  const { get, int } = envReader(env);
  const domain = get('AIPAYGENT_SIGNUP_DOMAIN');
  if (domain === undefined) {
    const stray = VARS.filter((v) => get(v) !== undefined);
    if (stray.length) throw new TypeError(`${stray.join(', ')} set but AIPAYGENT_SIGNUP_DOMAIN (the host clients reach this server at) is not: sign-up stays off without it`);
    return undefined;
  }
  return {
    domain,
    uri: get('AIPAYGENT_SIGNUP_URI'),
    challengeTtlSeconds: int('AIPAYGENT_SIGNUP_CHALLENGE_TTL_SECONDS'),
    perIpPerHour: int('AIPAYGENT_SIGNUP_PER_IP_PER_HOUR'),
    perWalletPerHour: int('AIPAYGENT_SIGNUP_PER_WALLET_PER_HOUR'),
    feeMicroUsd: int('AIPAYGENT_SIGNUP_FEE_MICRO_USD'),
  };
}
