// Two aipaygent instances sharing one Redis (as two processes would): one transfer and one x402 nonce still credit once.
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import { redisUrlOrSkip } from '../support/backends.js';
import { startChain, type TestChain, type Wallet } from '../support/chain.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';
import { linkWallet } from './support.js';

const url = await redisUrlOrSkip();
const prefix = `apgtest:${randomUUID().slice(0, 8)}:`;

/** Removes what the run wrote under its own prefix (SCAN + UNLINK, never FLUSHDB). */
async function unlinkPrefix(redisUrl: string): Promise<void> {
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const reply = await client.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 });
      keys.push(...reply.keys);
      cursor = String(reply.cursor);
    } while (cursor !== '0');
    if (keys.length) await client.unlink(keys);
  } finally {
    await client.close();
  }
}

describe.skipIf(!url)('payments on a shared Redis store, two instances', () => {
  let chain: TestChain;
  let receiver: Address;
  let relayer: Wallet;
  const mounts: Mounted[] = [];
  const instances: Aipaygent[] = [];

  beforeAll(async () => {
    chain = await startChain();
    receiver = (await chain.newWallet()).address;
    relayer = await chain.newWallet();
    for (let i = 0; i < 2; i++) {
      const ai = createAipaygent({
        adminToken: ADMIN_TOKEN, store: url!, storePrefix: prefix, multiProcess: true,
        payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1, minAmount: 0, x402: { relayerKey: relayer.key } },
      });
      instances.push(ai);
      mounts.push(await startMount('core', { parsed: false, prefix: '', ai }));
    }
  });
  afterAll(async () => {
    for (const m of mounts) await m.close();
    for (const ai of instances) await ai.close();
    await chain?.stop();
    if (url) await unlinkPrefix(url);
  });

  it('50 mixed-case submissions of one hash split across both instances credit exactly once', async () => {
    const key = (await instances[0]!.api.keys.create()).api_key;
    const wallet = await chain.newWallet();
    await chain.mint(wallet.address, 7_000_000n);
    expect((await linkWallet(mounts[1]!.url, key, wallet)).status).toBe(201);
    const hash = await chain.transfer(wallet, receiver, 7_000_000n);
    const variants = Array.from({ length: 50 }, (_, i) => `0x${[...hash.slice(2)].map((c, j) => ((i * 7 + j) % 3 ? c.toUpperCase() : c)).join('')}` as Hex);
    const results = await Promise.all(variants.map((h, i) => call(`${mounts[i % 2]!.url}/buy-credits`, { key, body: { tx_hash: h } })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(results.reduce((s, r) => s + (r.body.credited_micro_usd as number), 0)).toBe(7_000_000);
    expect((await call(`${mounts[0]!.url}/credits/balance`, { key })).body.balance_micro_usd).toBe(7_000_000);
  });

  it('one x402 authorization sent to both instances at once is settled and credited once', async () => {
    const key = (await instances[0]!.api.keys.create()).api_key;
    const wallet = await chain.newWallet();
    await chain.mint(wallet.address, 100_000n);
    const topUp = (m: Mounted, sig?: string) =>
      call(`${m.url}/buy-credits`, { key, body: { amount_micro_usd: 60_000 }, headers: sig ? { 'payment-signature': sig } : {} });
    const required = JSON.parse(Buffer.from((await topUp(mounts[0]!)).headers.get('payment-required')!, 'base64').toString());
    const now = BigInt(Math.floor(Date.now() / 1000));
    const { authorization, signature } = await chain.signAuthorization(wallet, { to: receiver, value: 60_000n, validAfter: now - 60n, validBefore: now + 300n });
    const header = Buffer.from(JSON.stringify({ x402Version: 2, resource: required.resource, accepted: required.accepts[0], payload: { signature, authorization } })).toString('base64');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => topUp(mounts[i % 2]!, header)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await chain.balanceOf(wallet.address)).toBe(40_000n);
    expect((await call(`${mounts[1]!.url}/credits/balance`, { key })).body.balance_micro_usd).toBe(60_000);
  });
});
