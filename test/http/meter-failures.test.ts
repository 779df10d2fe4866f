// HTTP: refunds when we fail, fail closed when the store fails, Idempotency-Key, and the per-key rate limit.
import { expect, it } from 'vitest';
import { describeMounts, call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';
import { faultyStore, newFaults, type Faults } from '../support/faulty-store.js';

async function newAccount(m: Mounted): Promise<{ key: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  return { key: r.body.api_key as string, account: r.body.account_id as string };
}

const freeLeft = async (m: Mounted, account: string) => (await m.ai.api.ledger.balance(account)).freeCallsRemaining;
const storeBody = (k: string, data: unknown = { k }) => ({ user_id: 'u1', key: k, data });

let faults: Faults = newFaults();
/** What the service logged (masked faults): kept off the console, and asserted on. */
const logged: string[] = [];
const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };
/** Voids left to the background on purpose (a charge or a refund the store did not answer); any other one is a bug. */
let voidsDeferred = 0;
const deferred = () => logged.filter((m) => /voiding it by id in the background/.test(m)).length;

describeMounts('meter: refunds and fail-closed', () => {
  faults = newFaults();
  return { store: faultyStore(faults), freeCallsPerDay: 2, limits: { maxValueBytes: 1024 }, logger };
}, (m) => {
  it('a 5xx gives the free call back', async () => {
    const { key, account } = await newAccount(m());
    expect((await call(`${m().url}/memory/store`, { key, body: storeBody('a') })).status).toBe(200);
    faults.failMemoryGets = 1;
    const failed = await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ status: 'error', error: { code: 'internal', message: 'Internal error.' } });
    expect(logged.at(-1)).toBe('aipaygent: unexpected error');
    expect(failed.headers.get('ratelimit')).toMatch(/^"free";r=1;t=\d+$/);
    expect(await freeLeft(m(), account)).toBe(1);
    expect((await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key })).headers.get('ratelimit')).toMatch(/^"free";r=0;/);
  });

  it('a 5xx gives the money back as a refund entry; the ledger still sums to the balance', async () => {
    const { key, account } = await newAccount(m());
    for (const k of ['a', 'b']) await call(`${m().url}/memory/store`, { key, body: storeBody(k) });
    await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1000, reason: 'test' });
    faults.failMemoryGets = 1;
    const failed = await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-credits-balance-micro-usd')).toBe('1000');
    const entries = await m().ai.api.ledger.entries(account, { limit: 10 });
    expect(entries.map((e) => [e.kind, e.amount, e.balanceAfter])).toEqual([['refund', 100, 1000], ['debit', -100, 900], ['grant', 1000, 1000]]);
    // Both entries name the charge: the refund voided that very debit.
    const id = /^GET \/memory\/retrieve (chg_\S+)$/.exec(entries[1]!.memo!)![1];
    expect(entries[0]!.memo).toBe(`refund: GET /memory/retrieve answered 500 ${id}`);
    expect(entries.reduce((s, e) => s + e.amount, 0)).toBe((await m().ai.api.ledger.balance(account)).balanceMicroUsd);
  });

  it('input the handler itself rejects (413) costs nothing', async () => {
    const { key, account } = await newAccount(m());
    const r = await call(`${m().url}/memory/store`, { key, body: storeBody('big', 'x'.repeat(2000)) });
    expect(r.status).toBe(413);
    expect(await freeLeft(m(), account)).toBe(2);
  });

  it('when the refund itself fails, answers 503 (never "nothing was charged") and the refund lands later, once', async () => {
    const { key, account } = await newAccount(m());
    await call(`${m().url}/memory/store`, { key, body: storeBody('a') });
    await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1000, reason: 'test' });
    for (const k of ['b', 'c']) await call(`${m().url}/memory/store`, { key, body: storeBody(k) });
    faults.failMemoryGets = 1;
    faults.failVoids = 1;
    const r = await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key });
    expect(r.status).toBe(503);
    expect(r.body.error).toEqual({ code: 'store_unavailable', message: expect.stringMatching(/refund is retried in the background and applies once/) });
    expect(deferred()).toBe(++voidsDeferred);
    // The void is retried in the background and lands: the money comes back in one refund entry.
    await expect.poll(async () => (await m().ai.api.ledger.balance(account)).balanceMicroUsd).toBe(900);
    const entries = await m().ai.api.ledger.entries(account, { limit: 10 });
    expect(entries.map((e) => e.kind)).toEqual(['refund', 'debit', 'debit', 'grant']);
    expect(entries.reduce((s, e) => s + e.amount, 0)).toBe(900);
  });

  it('a refund whose answer was lost is sent again and applies once', async () => {
    const { key, account } = await newAccount(m());
    await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1000, reason: 'test' });
    for (const k of ['a', 'b']) await call(`${m().url}/memory/store`, { key, body: storeBody(k) });
    const voidsBefore = faults.calls.void ?? 0;
    faults.failMemoryGets = 1;
    faults.loseVoids = 1;
    expect((await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key })).status).toBe(503);
    expect(deferred()).toBe(++voidsDeferred);
    await expect.poll(() => faults.calls.void ?? 0).toBe(voidsBefore + 2);
    const entries = await m().ai.api.ledger.entries(account, { limit: 10 });
    expect(entries.map((e) => [e.kind, e.amount])).toEqual([['refund', 100], ['debit', -100], ['grant', 1000]]);
    expect((await m().ai.api.ledger.balance(account)).balanceMicroUsd).toBe(1000);
  });

  it('fails closed: a store fault while charging is a 503 and the handler never runs', async () => {
    const { key, account } = await newAccount(m());
    faults.failCharges = 1;
    const voidsBefore = faults.calls.void ?? 0;
    const r = await call(`${m().url}/memory/store`, { key, body: storeBody('x') });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('store_unavailable');
    expect(await m().ai.api.memory.get(account, 'u1', 'x', Date.now())).toBeNull();
    expect(await freeLeft(m(), account)).toBe(2);
    // The charge got no answer, so it is voided by id in the background (here it never reached the store).
    expect(deferred()).toBe(++voidsDeferred);
    await expect.poll(() => faults.calls.void ?? 0).toBe(voidsBefore + 1);
    expect(await freeLeft(m(), account)).toBe(2);
  });

  it('a metered call costs two store operations: the charge, which also verifies the API key, and the work', async () => {
    const { key } = await newAccount(m());
    await call(`${m().url}/memory/store`, { key, body: storeBody('a') });
    const before = { ...faults.calls };
    expect((await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key })).status).toBe(200);
    const delta = Object.fromEntries(Object.entries(faults.calls).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
    // charge: the meter, with the key check inside it; get: the memory itself. No separate read of the key.
    expect(delta).toEqual({ charge: 1, get: 1 });
  });
});

describeMounts('meter: Idempotency-Key on metered POSTs', () => {
  faults = newFaults();
  return { store: faultyStore(faults), freeCallsPerDay: 5, logger };
}, (m) => {
  const post = (key: string, idem: string, body: unknown) => call(`${m().url}/memory/store`, { key, body, headers: { 'idempotency-key': idem } });

  it('replays the stored response and charges nothing; a different body with the same key is 409', async () => {
    const { key, account } = await newAccount(m());
    const first = await post(key, 'op-1', storeBody('a'));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const replay = await post(key, 'op-1', storeBody('a'));
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await freeLeft(m(), account)).toBe(4);
    const clash = await post(key, 'op-1', storeBody('a', { other: true }));
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/different request/) });
    // Keys are per account: another account may use the same one.
    const other = await newAccount(m());
    expect((await post(other.key, 'op-1', storeBody('a'))).headers.get('idempotent-replayed')).toBeNull();
  });

  it('a concurrent duplicate while the first is in flight is 409; afterwards it replays', async () => {
    const { key, account } = await newAccount(m());
    let release!: () => void;
    faults.putGate = new Promise<void>((r) => (release = r));
    const gatedBefore = faults.gated;
    const first = post(key, 'op-2', storeBody('slow'));
    // Held at its memory write (its charge also noted the account in the usage activity index: another put).
    await expect.poll(() => faults.gated).toBe(gatedBefore + 1);
    const duplicate = await post(key, 'op-2', storeBody('slow'));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.message).toMatch(/in progress/);
    release();
    faults.putGate = undefined;
    expect((await first).status).toBe(200);
    expect((await post(key, 'op-2', storeBody('slow'))).headers.get('idempotent-replayed')).toBe('true');
    expect(await freeLeft(m(), account)).toBe(4);
  });

  it('a 5xx or a 402 releases the key: the retry runs for real', async () => {
    const { key, account } = await newAccount(m());
    faults.failMemoryPuts = 1;
    expect((await post(key, 'op-3', storeBody('a'))).status).toBe(500);
    const retry = await post(key, 'op-3', storeBody('a'));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    for (let i = 0; i < 4; i++) await call(`${m().url}/memory/store`, { key, body: storeBody(`f${i}`) });
    expect(await freeLeft(m(), account)).toBe(0);
    expect((await post(key, 'op-4', storeBody('b'))).status).toBe(402);
    await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 100, reason: 'top up' });
    const paid = await post(key, 'op-4', storeBody('b'));
    expect(paid.status).toBe(200);
    expect(paid.headers.get('x-credits-balance-micro-usd')).toBe('0');
  });

  it('refuses a malformed Idempotency-Key before charging', async () => {
    const { key, account } = await newAccount(m());
    for (const bad of ['x'.repeat(256), 'two words']) {
      const r = await post(key, bad, storeBody('a'));
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/Idempotency-Key/);
    }
    expect(await freeLeft(m(), account)).toBe(5);
  });
});

describeMounts('meter: per-key rate limit', () => ({ freeCallsPerDay: 100, rateLimit: { requests: 3, windowSeconds: 86_400 } }), (m) => {
  it('answers 429 rate_limited with Retry-After past the limit, per key, and charges nothing', async () => {
    const { key, account } = await newAccount(m());
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(`${m().url}/memory/store`, { key, body: storeBody(`k${i}`) });
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-policy')).toBe('"free";q=100;w=86400, "rate";q=3;w=86400');
      states.push(r.headers.get('ratelimit')!.replace(/;t=\d+/g, ''));
    }
    expect(states).toEqual(['"free";r=99, "rate";r=2', '"free";r=98, "rate";r=1', '"free";r=97, "rate";r=0']);
    for (const path of ['/memory/store', '/credits/balance']) {
      const r = path === '/credits/balance' ? await call(`${m().url}${path}`, { key }) : await call(`${m().url}${path}`, { key, body: storeBody('late') });
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(86_400);
      expect(r.headers.get('ratelimit')).toMatch(/^"rate";r=0;t=\d+$/);
    }
    expect(await freeLeft(m(), account)).toBe(97);
    // Another key of the same account has its own allowance.
    const second = await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: { account_id: account } });
    expect((await call(`${m().url}/credits/balance`, { key: second.body.api_key })).status).toBe(200);
  });
});

it('never left a refund to the background except where injected, and never gave one up', () => {
  expect(deferred()).toBe(voidsDeferred);
  expect(logged.filter((m) => /VOID FAILED/.test(m))).toEqual([]);
});
