// Payment options from environment variables (standalone server): on when AIPAYGENT_RECEIVER is set.
import { envReader } from '../env-read.js';
import type { PaymentsOptions } from './config.js';

const VARS = ['AIPAYGENT_RPC_URL', 'AIPAYGENT_CHAIN_ID', 'AIPAYGENT_USDC_ADDRESS', 'AIPAYGENT_CONFIRMATIONS', 'AIPAYGENT_RELAYER_KEY', 'AIPAYGENT_FACILITATOR_URL'];

/** Reads AIPAYGENT_RECEIVER, _RPC_URL, _CHAIN_ID, _USDC_ADDRESS, _CONFIRMATIONS, _RATE, _MIN_AMOUNT, _TOKEN_NAME, _RELAYER_KEY, _FACILITATOR_URL. */
export function paymentsFromEnv(env: NodeJS.ProcessEnv): PaymentsOptions | undefined {
  const { get, int } = envReader(env);
  const receiver = get('AIPAYGENT_RECEIVER');
  if (receiver === undefined) {
    const stray = VARS.filter((v) => get(v) !== undefined);
    if (stray.length) throw new TypeError(`${stray.join(', ')} set but AIPAYGENT_RECEIVER (the address receiving USDC) is not: payments stay off without it`);
    return undefined;
  }
  const relayerKey = get('AIPAYGENT_RELAYER_KEY');
  const facilitatorUrl = get('AIPAYGENT_FACILITATOR_URL');
  return {
    receiver,
    rpcUrl: get('AIPAYGENT_RPC_URL'),
    chainId: int('AIPAYGENT_CHAIN_ID'),
    usdcAddress: get('AIPAYGENT_USDC_ADDRESS'),
    confirmations: int('AIPAYGENT_CONFIRMATIONS'),
    rate: get('AIPAYGENT_RATE'),
    minAmount: get('AIPAYGENT_MIN_AMOUNT'),
    tokenName: get('AIPAYGENT_TOKEN_NAME'),
    x402: relayerKey || facilitatorUrl ? { relayerKey, facilitatorUrl } : undefined,
  };
}
