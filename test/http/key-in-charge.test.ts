// HTTP: metered calls verify the API key inside the charge; a bad key is the same 401 and never acts for the account it names.
import { Keyv } from 'keyv';
import { expect, it } from 'vitest';
import type { ChargeInput, Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { describeMounts, call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';
import { faultyStore, newFaults, type Faults } from '../support/faulty-store.js';

async function newAccount(m: Mounted): Promise<{ key: string; keyId: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  return { key: r.body.api_key as string, keyId: r.body.key_id as string, account: r.body.account_id as string };
}

/** Same key id (so the same account), another secret: what an attacker who saw a key id could send. */
const forge = (apiKey: string) => apiKey.slice(0, -6) + (apiKey.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
const storeBody = (k: string) => ({ user_id: 'u1', key: k, data: { k } });

let faults: Faults = newFaults();

/** Store operations one call made, by method. */
async function opsOf(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = { ...faults.calls };
  await fn();
  return Object.fromEntries(Object.entries(faults.calls).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
}

const expectInvalidKey = (r: { status: number; body: any; headers: Headers }) => {
  expect(r.status).toBe(401);
  expect(r.body).toEqual({ status: 'error', error: { code: 'unauthorized', message: 'Invalid or revoked API key' } });
  expect(r.headers.get('www-authenticate')).toBe('Bearer realm="aipaygent"');
  expect(r.headers.get('ratelimit')).toBeNull();
};

describeMounts('metered calls: the key is verified by the charge', () => {
  faults = newFaults();
  return { store: faultyStore(faults), freeCallsPerDay: 2 };
}, (m) => {
  it('a forged or revoked key is 401 after the charge that refused it and one read of its key, and takes no free call and no money', async () => {
    const { key, keyId, account } = await newAccount(m());
    expect((await call(`${m().url}/memory/store`, { key, body: storeBody('a') })).status).toBe(200);
    const retrieve = `${m().url}/memory/retrieve?user_id=u1&key=a`;
    // The store operations of a refused metered call: the charge that refused it, then (refusals only) one read of
    // the key, which tells a valid key lacking the route's scope (403) from a bad one (401).
    expect(await opsOf(async () => expectInvalidKey(await call(retrieve, { key: forge(key) })))).toEqual({ charge: 1, get: 1 });
    expectInvalidKey(await call(`${m().url}/memory/store`, { key: forge(key), body: storeBody('b') }));
    expect((await m().ai.api.ledger.balance(account)).freeCallsRemaining).toBe(1);

    expect((await call(retrieve, { key })).status).toBe(200); // the last free call
    await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1000, reason: 'test' });
    expectInvalidKey(await call(retrieve, { key: forge(key) }));
    expect((await call(`${m().url}/admin/keys/${keyId}`, { key: ADMIN_TOKEN, method: 'DELETE' })).status).toBe(200);
    expectInvalidKey(await call(retrieve, { key }));
    expectInvalidKey(await call(`${m().url}/memory/delete?user_id=u1&key=a`, { key, method: 'DELETE' }));
    expect((await m().ai.api.ledger.balance(account)).balanceMicroUsd).toBe(1000);
    expect((await m().ai.api.ledger.entries(account, { limit: 10 })).map((e) => e.kind)).toEqual(['grant']);
    expect(await m().ai.api.memory.get(account, 'u1', 'a', Date.now())).not.toBeNull();
  });

  it('a valid key on a metered call costs the charge and the work; a free route still reads the key on its own', async () => {
    const { key } = await newAccount(m());
    expect(await opsOf(async () => expect((await call(`${m().url}/memory/store`, { key, body: storeBody('a') })).status).toBe(200))).toMatchObject({ charge: 1 });
    expect(await opsOf(async () => expect((await call(`${m().url}/memory/retrieve?user_id=u1&key=a`, { key })).status).toBe(200))).toEqual({ charge: 1, get: 1 });
    const balance = await opsOf(async () => expect((await call(`${m().url}/credits/balance`, { key })).status).toBe(200));
    expect(balance.get).toBe(1);
    expect(balance.charge).toBeUndefined();
    expectInvalidKey(await call(`${m().url}/credits/balance`, { key: forge(key) }));
  });
});

/** A Store written before ChargeAuth existed: no `info.chargeAuth`, and a charge that never looks at `auth`. */
function legacyStore(): Store {
  const inner = new KeyvStore(new Keyv({ throwOnErrors: true }));
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'info') return { backend: 'keyv', multiProcess: false };
      if (prop === 'charge') return (account: string, { auth: _ignored, ...input }: ChargeInput, now: number) => target.charge(account, input, now);
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describeMounts('metered calls on a Store that cannot verify keys in charge', () => {
  faults = newFaults();
  return { store: faultyStore(faults, legacyStore()), freeCallsPerDay: 2 };
}, (m) => {
  it('the key is read and checked first, so a forged key is still refused and takes nothing', async () => {
    const { key, account } = await newAccount(m());
    expect((await call(`${m().url}/memory/store`, { key, body: storeBody('a') })).status).toBe(200);
    const retrieve = `${m().url}/memory/retrieve?user_id=u1&key=a`;
    expect(await opsOf(async () => expectInvalidKey(await call(retrieve, { key: forge(key) })))).toEqual({ get: 1 });
    expect(await opsOf(async () => expect((await call(retrieve, { key })).status).toBe(200))).toEqual({ get: 2, charge: 1 });
    expect((await m().ai.api.ledger.balance(account)).freeCallsRemaining).toBe(0);
  });
});

describeMounts('metered calls with a rate limit: a forged key spends nobody\'s allowance', () => {
  faults = newFaults();
  return { store: faultyStore(faults), freeCallsPerDay: 100, rateLimit: { requests: 2, windowSeconds: 86_400 } };
}, (m) => {
  it('forged calls are refused before the limiter counts them; the owner keeps the full allowance', async () => {
    const { key, account } = await newAccount(m());
    for (let i = 0; i < 5; i++) {
      // Verified on its own first (a get), so neither the limiter's counter nor the charge is touched.
      expect(await opsOf(async () => expectInvalidKey(await call(`${m().url}/memory/store`, { key: forge(key), body: storeBody(`f${i}`) })))).toEqual({ get: 1 });
    }
    for (let i = 0; i < 2; i++) expect((await call(`${m().url}/memory/store`, { key, body: storeBody(`k${i}`) })).status).toBe(200);
    expect((await call(`${m().url}/memory/store`, { key, body: storeBody('k2') })).status).toBe(429);
    expect((await m().ai.api.ledger.balance(account)).freeCallsRemaining).toBe(98);
  });
});

describeMounts('metered calls with an Idempotency-Key: a forged key sees no stored response', () => {
  faults = newFaults();
  return { store: faultyStore(faults), freeCallsPerDay: 5 };
}, (m) => {
  it('the key is verified before the Idempotency-Key is looked up', async () => {
    const { key, account } = await newAccount(m());
    const post = (k: string) => call(`${m().url}/memory/store`, { key: k, body: storeBody('a'), headers: { 'idempotency-key': 'op-1' } });
    expect((await post(key)).status).toBe(200);
    expect(await opsOf(async () => expectInvalidKey(await post(forge(key))))).toEqual({ get: 1 });
    const replay = await post(key);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await m().ai.api.ledger.balance(account)).freeCallsRemaining).toBe(4);
  });
});
