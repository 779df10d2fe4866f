// A chain RPC that answers malformed data (a receipt without logs, status, block number...) is a 502 that credits nothing, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { startChain, type TestChain, type Wallet } from '../support/chain.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { startRpcProxy, type RpcProxy } from '../support/rpc-proxy.js';
import { decodeHeader, topUp } from '../support/x402.js';
import { linkWallet } from './support.js';

let chain: TestChain;
let rpc: RpcProxy;
let receiver: Address;
let relayer: Wallet;
let m: Mounted;
const logs: string[] = [];
const logger = { warn: (s: string) => void logs.push(s), error: (s: string) => void logs.push(s) };

beforeAll(async () => {
  chain = await startChain();
  rpc = await startRpcProxy(chain.rpcUrl);
  receiver = (await chain.newWallet()).address;
  relayer = await chain.newWallet();
  m = await startMount('core', {
    parsed: false, prefix: '',
    options: { logger, payments: { rpcUrl: rpc.url, usdcAddress: chain.usdc, receiver, confirmations: 1, minAmount: 1000, x402: { relayerKey: relayer.key } } },
  });
});
afterAll(async () => {
  await m?.close();
  await rpc?.close();
  await chain?.stop();
});

type Receipt = Record<string, any>;
/** Rewrites every receipt the RPC answers from now on. */
const receipts = (edit: (r: Receipt) => unknown) => {
  rpc.rewrite = (method, result) => (method === 'eth_getTransactionReceipt' && result ? edit(structuredClone(result) as Receipt) : result);
};

/** A new account whose linked wallet sent `units` of USDC to the receiver: the mined tx hash. */
async function paid(units: bigint): Promise<{ key: string; hash: Hex; wallet: Wallet }> {
  rpc.rewrite = undefined;
  const key = (await m.ai.api.keys.create()).api_key;
  const wallet = await chain.newWallet();
  await chain.mint(wallet.address, units);
  expect((await linkWallet(m.url, key, wallet)).status).toBe(201);
  return { key, hash: await chain.transfer(wallet, receiver, units), wallet };
}

const balance = async (key: string) => (await call(`${m.url}/credits/balance`, { key })).body.balance_micro_usd as number;

const MALFORMED: Array<[string, (r: Receipt) => unknown]> = [
  ['without logs', (r) => ({ ...r, logs: undefined })],
  ['with logs: null', (r) => ({ ...r, logs: null })],
  ['without blockNumber', (r) => ({ ...r, blockNumber: undefined })],
  ['with blockNumber: null', (r) => ({ ...r, blockNumber: null })],
  ['without status', (r) => ({ ...r, status: undefined })],
  ['with an unknown status', (r) => ({ ...r, status: '0x7' })],
  ['without transactionHash', (r) => ({ ...r, transactionHash: undefined })],
  ['with a log without logIndex', (r) => ({ ...r, logs: r.logs.map((l: Receipt) => ({ ...l, logIndex: undefined })) })],
  ['with a log whose logIndex is null', (r) => ({ ...r, logs: r.logs.map((l: Receipt) => ({ ...l, logIndex: null })) })],
  ['with a log without address', (r) => ({ ...r, logs: r.logs.map((l: Receipt) => ({ ...l, address: undefined })) })],
  ['with a log without topics', (r) => ({ ...r, logs: r.logs.map((l: Receipt) => ({ ...l, topics: null })) })],
  ['with logs: [null]', (r) => ({ ...r, logs: [null] })],
  ['that is a string', () => 'garbage'],
];

describe('payments: a malformed chain RPC', () => {
  for (const [what, edit] of MALFORMED) {
    it(`a receipt ${what} is a 502 upstream_error that credits nothing; the sound answer later credits once`, async () => {
      const { key, hash } = await paid(5000n);
      logs.length = 0;
      receipts(edit);
      const r = await call(`${m.url}/buy-credits`, { key, body: { tx_hash: hash } });
      expect(r.status).toBe(502);
      expect(r.body).toEqual({ status: 'error', error: { code: 'upstream_error', message: expect.stringMatching(/nothing was credited/) } });
      expect(logs.filter((l) => /unexpected error/.test(l))).toEqual([]);
      rpc.rewrite = undefined;
      expect(await balance(key)).toBe(0);
      const ok = await call(`${m.url}/buy-credits`, { key, body: { tx_hash: hash } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ credited_micro_usd: 5000, already_credited_micro_usd: 0, balance_micro_usd: 5000 });
    });
  }

  it('a latest block number of null is a 502 that credits nothing', async () => {
    const { key, hash } = await paid(5000n);
    rpc.rewrite = (method, result) => (method === 'eth_blockNumber' ? null : result);
    const r = await call(`${m.url}/buy-credits`, { key, body: { tx_hash: hash } });
    expect([r.status, r.body.error?.code]).toEqual([502, 'upstream_error']);
    rpc.rewrite = undefined;
    expect(await balance(key)).toBe(0);
  });

  it('x402: a settlement receipt without logs is a 502 that credits nothing', async () => {
    const { key, wallet } = await paid(5000n);
    await chain.mint(wallet.address, 20_000n);
    const first = await topUp(m.url, key, 20_000);
    expect(first.status).toBe(402);
    const pr = decodeHeader(first.headers.get('payment-required'));
    const accepted = pr.accepts[0];
    const now = BigInt(Math.floor(Date.now() / 1000));
    const { authorization, signature } = await chain.signAuthorization(wallet, { to: accepted.payTo, value: BigInt(accepted.amount), validAfter: now - 60n, validBefore: now + 300n });
    const header = Buffer.from(JSON.stringify({ x402Version: 2, resource: pr.resource, accepted, payload: { signature, authorization } })).toString('base64');
    receipts((r) => ({ ...r, logs: undefined }));
    const r = await topUp(m.url, key, 20_000, header);
    expect([r.status, r.body.error?.code]).toEqual([502, 'upstream_error']);
    rpc.rewrite = undefined;
    expect(await balance(key)).toBe(0);
  });
});
