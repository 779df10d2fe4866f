// The purchase service on a real chain and a real store: crash safety, cross-account claims, amounts, RPC faults.
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { AipaygentError } from '../../src/errors.js';
import { parsePayments, type PaymentsOptions } from '../../src/payments/config.js';
import { createPayments, type Payments } from '../../src/payments/payments.js';
import { transferKey } from '../../src/payments/purchases.js';
import { microUsdToUnits, parseRate, unitsToMicroUsd } from '../../src/payments/units.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { UsageRecorder } from '../../src/meter/usage.js';
import { usageBucket } from '../../src/storage/usage.js';
import { startChain, type TestChain, type Wallet } from '../support/chain.js';

let chain: TestChain;
let receiver: Address;
beforeAll(async () => {
  chain = await startChain();
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  await chain?.stop();
});

function service(extra: Partial<PaymentsOptions> = {}): Payments & { store: KeyvStore } {
  const problems: string[] = [];
  const config = parsePayments({ rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1, minAmount: 0, ...extra }, problems);
  expect(problems).toEqual([]);
  const store = new KeyvStore(new Keyv({ throwOnErrors: true }));
  return { ...createPayments(store, config!, undefined, new UsageRecorder(store, { retentionDays: 1 })), store };
}

async function link(p: Payments, account: string, wallet: Wallet) {
  const { message } = await p.wallets.challenge(account, Date.now());
  return p.wallets.link(account, wallet.address, await wallet.account.signMessage({ message }), Date.now());
}

async function paidTransfer(p: Payments, account: string, amount = 2_000_000n) {
  const wallet = await chain.newWallet();
  await chain.mint(wallet.address, amount);
  expect(await link(p, account, wallet)).toMatchObject({ ok: true });
  return chain.transfer(wallet, receiver, amount);
}

describe('purchase service', () => {
  it('a crash between the global claim and the ledger post is repaired by the next submission, once', async () => {
    const p = service();
    const hash = await paidTransfer(p, 'acct_a');
    const receipt = await chain.client.getTransactionReceipt({ hash });
    const logIndex = receipt.logs[0]!.logIndex;
    // The claim of a process that died before posting.
    expect(await p.store.claim(null, transferKey(8453, hash, logIndex), 'acct_a', null, Date.now())).toEqual({ inserted: true });
    expect(await p.store.balance('acct_a', Date.now())).toBe(0);
    expect(await p.purchases.submit('acct_a', hash, Date.now())).toMatchObject({ status: 'credited', creditedMicroUsd: 2_000_000, balance: 2_000_000 });
    expect(await p.purchases.submit('acct_a', hash, Date.now())).toMatchObject({ status: 'credited', creditedMicroUsd: 0, alreadyCreditedMicroUsd: 2_000_000 });
    const purchases = (await p.store.ledger('acct_a', { limit: 10 })).filter((e) => e.kind === 'purchase');
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({ amount: 2_000_000, reference: transferKey(8453, hash, logIndex) });
    // Counted once as credited in the account's usage, with the post that credited it.
    const usage = await p.store.usage('acct_a', usageBucket(Date.now() - 3_600_000), usageBucket(Date.now()), Date.now());
    expect(usage.reduce((sum, b) => sum + (b.fields.credited ?? 0), 0)).toBe(2_000_000);
  });

  it('a log already claimed by another account (e.g. through x402) credits nothing here', async () => {
    const p = service();
    const hash = await paidTransfer(p, 'acct_b');
    const logIndex = (await chain.client.getTransactionReceipt({ hash })).logs[0]!.logIndex;
    await p.store.claim(null, transferKey(8453, hash, logIndex), 'acct_other', null, Date.now());
    expect(await p.purchases.submit('acct_b', hash, Date.now())).toEqual({ status: 'rejected', reason: 'credited_to_another_account' });
    expect(await p.store.balance('acct_b', Date.now())).toBe(0);
  });

  it('converts with the rate in integer math and refuses amounts beyond Number.MAX_SAFE_INTEGER', async () => {
    const half = service({ rate: '0.5' });
    const h1 = await paidTransfer(half, 'acct_c', 3n);
    expect(await half.purchases.submit('acct_c', h1, Date.now())).toMatchObject({ status: 'credited', creditedMicroUsd: 1 });
    const huge = service({ rate: 1e12 });
    const h2 = await paidTransfer(huge, 'acct_d', 10_000_000n);
    expect(await huge.purchases.submit('acct_d', h2, Date.now())).toEqual({ status: 'rejected', reason: 'amount_too_large' });
    expect(await huge.store.balance('acct_d', Date.now())).toBe(0);
  });

  it('fails closed with a 502 when the RPC serves another chain or does not answer', async () => {
    const p = service();
    const hash = await paidTransfer(p, 'acct_e');
    const wrongChain = service({ chainId: 84532, usdcAddress: chain.usdc });
    await expect(wrongChain.purchases.submit('acct_e', hash, Date.now())).rejects.toMatchObject({ code: 'upstream_error', message: expect.stringContaining('serves chain 8453, not chain 84532') });
    const down = service({ rpcUrl: 'http://127.0.0.1:9', rpcTimeoutMs: 500 });
    const err = await down.purchases.submit('acct_e', hash, Date.now()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AipaygentError);
    expect(err).toMatchObject({ code: 'upstream_error', status: 502 });
  });
});

describe('units', () => {
  it('parses rates exactly and rounds conversions the safe way', () => {
    expect(parseRate(1)).toEqual({ num: 1n, den: 1n, text: '1' });
    expect(parseRate('0.000001')).toEqual({ num: 1n, den: 1_000_000n, text: '0.000001' });
    expect(parseRate(1e-12)).toEqual({ num: 1n, den: 10n ** 12n, text: '0.000000000001' });
    expect(parseRate('2.50')).toEqual({ num: 5n, den: 2n, text: '2.5' });
    for (const bad of [0, -1, NaN, Infinity, '', 'abc', '1,5', '-2', '0.0']) expect(parseRate(bad as never)).toBeUndefined();
    const r = parseRate('0.3')!;
    expect(unitsToMicroUsd(10n, r)).toBe(3);
    expect(unitsToMicroUsd(9n, r)).toBe(2); // rounded down: never credit more than paid
    expect(microUsdToUnits(3, r)).toBe(10n);
    expect(microUsdToUnits(1, r)).toBe(4n); // rounded up: never ask less than the price
    expect(unitsToMicroUsd(BigInt(Number.MAX_SAFE_INTEGER), parseRate(1)!)).toBe(Number.MAX_SAFE_INTEGER);
    expect(unitsToMicroUsd(BigInt(Number.MAX_SAFE_INTEGER) + 1n, parseRate(1)!)).toBeUndefined();
  });
});
