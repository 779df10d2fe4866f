// The standalone server's payment variables: AIPAYGENT_RECEIVER turns payments on; the others tune them.
import { describe, expect, it } from 'vitest';
import { optionsFromEnv } from '../../src/env.js';
import { createAipaygent } from '../../src/create.js';

describe('payments from the environment', () => {
  it('reads every payment variable into payments options that parse', async () => {
    const env = {
      AIPAYGENT_RECEIVER: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', AIPAYGENT_RPC_URL: 'http://127.0.0.1:8545', AIPAYGENT_CHAIN_ID: '84532',
      AIPAYGENT_USDC_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3', AIPAYGENT_CONFIRMATIONS: '5',
      AIPAYGENT_RELAYER_KEY: `0x${'ab'.repeat(32)}`, AIPAYGENT_FACILITATOR_URL: '',
    };
    expect(optionsFromEnv(env).payments).toEqual({
      receiver: env.AIPAYGENT_RECEIVER, rpcUrl: env.AIPAYGENT_RPC_URL, chainId: 84532, usdcAddress: env.AIPAYGENT_USDC_ADDRESS, confirmations: 5,
      rate: undefined, minAmount: undefined, tokenName: undefined, x402: { relayerKey: env.AIPAYGENT_RELAYER_KEY, facilitatorUrl: undefined },
    });
    const ai = createAipaygent(optionsFromEnv(env));
    await ai.close();
  });

  it('is off without a receiver, and says so when other payment variables are set', () => {
    expect(optionsFromEnv({}).payments).toBeUndefined();
    expect(() => optionsFromEnv({ AIPAYGENT_RPC_URL: 'http://x' })).toThrow(/AIPAYGENT_RPC_URL set but AIPAYGENT_RECEIVER/);
    expect(() => optionsFromEnv({ AIPAYGENT_RECEIVER: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', AIPAYGENT_CONFIRMATIONS: 'two' })).toThrow(/AIPAYGENT_CONFIRMATIONS must be an integer/);
  });
});
