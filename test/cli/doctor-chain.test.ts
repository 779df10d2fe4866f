// `aipaygent doctor` with payments configured, against a real local chain (anvil with the test USDC deployed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChain, type TestChain } from '../support/chain.js';
import { runCli, tempDir } from './support.js';

describe('doctor with payments configured', () => {
  const tmp = tempDir();
  let chain: TestChain;
  let env: Record<string, string>;
  beforeAll(async () => {
    chain = await startChain();
    env = {
      AIPAYGENT_STORE: `sqlite://${tmp.dir}/doctor.db`,
      AIPAYGENT_RECEIVER: (await chain.newWallet()).address,
      AIPAYGENT_RPC_URL: chain.rpcUrl,
      AIPAYGENT_CHAIN_ID: String(chain.chainId),
      AIPAYGENT_USDC_ADDRESS: chain.usdc,
    };
  });
  afterAll(async () => {
    await chain?.stop();
    tmp.remove();
  });
  const chainLine = (out: string) => out.split('\n').find((l) => / chain RPC /.test(l));
  const host = () => new URL(chain.rpcUrl).host;

  it('passes: the RPC serves the configured chain and the USDC contract is there', async () => {
    const r = await runCli(['doctor'], env);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^✓ package viem \d+\.\d+\.\d+ /m);
    expect(chainLine(r.out)).toMatch(new RegExp(`^✓ chain RPC ${host()}: chain ${chain.chainId} in [\\d.]+ ms; USDC contract found at ${chain.usdc}$`));
    expect(r.out).toMatch(new RegExp(`^ {2}payments: on \\(USDC on chain ${chain.chainId} to `, 'm'));
  });

  it('fails (exit 1) with a wrong AIPAYGENT_CHAIN_ID, naming both chain ids', async () => {
    const r = await runCli(['doctor'], { ...env, AIPAYGENT_CHAIN_ID: '84532' });
    expect(r.code).toBe(1);
    expect(chainLine(r.out)).toBe(`✗ chain RPC ${host()}: it serves chain ${chain.chainId}, the configuration says 84532`);
  });

  it('fails (exit 1) when no contract is at the USDC address', async () => {
    const r = await runCli(['doctor'], { ...env, AIPAYGENT_USDC_ADDRESS: env.AIPAYGENT_RECEIVER! });
    expect(r.code).toBe(1);
    expect(chainLine(r.out)).toMatch(/^✗ chain RPC \S+: no contract at the USDC address 0x[0-9a-fA-F]{40} on chain \d+$/);
  });
});
