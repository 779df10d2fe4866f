// A Redis command still unsent when its call's time bound ends is dropped: the call is answered 503 and the write
// never lands later (src/storage/send-deadline.ts). A host's Keyv client queues commands while it reconnects.
import { randomUUID } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { canStartRedis, startOwnRedis, type OwnServer } from '../support/own-servers.js';

const TIMEOUT_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canStartRedis())('redis: a command unsent within the time bound is dropped', () => {
  let server: OwnServer;
  let keyv: Keyv;
  let store: Store;
  const a = `acct_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    server = await startOwnRedis();
    keyv = new Keyv(new KeyvRedis(server.url));
    store = await openStore(keyv, { timeoutMs: TIMEOUT_MS, prefix: `apgtest:${randomUUID().slice(0, 8)}:` });
    await store.init();
  });
  afterAll(async () => {
    await store?.close();
    await keyv?.disconnect().catch(() => {});
    await server?.stop();
  });

  it('grants queued while the server is down answer 503 in time, and none of them runs once it is back', async () => {
    expect(await store.post(a, { amount: 1, kind: 'grant' }, Date.now())).toMatchObject({ ok: true, balance: 1 });
    const port = server.port;
    await server.stop();
    await sleep(50); // the client has seen its connection go: what is sent now waits in its offline queue
    // Several grants over more than one window of the shared deadline, each answered within its bound.
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      const error = await store.post(a, { amount: 5, kind: 'grant' }, Date.now()).then(() => null, (e: unknown) => e);
      outcomes.push({ unavailable: error instanceof StoreUnavailableError, withinBound: Date.now() - started < TIMEOUT_MS + 300 });
    }
    expect(outcomes).toEqual(Array.from({ length: 4 }, () => ({ unavailable: true, withinBound: true })));
    server = await startOwnRedis(port);
    let balance: number | null = null;
    for (let i = 0; i < 50 && balance === null; i++) {
      balance = await store.balance(a, Date.now()).catch(() => null);
      if (balance === null) await sleep(100);
    }
    await sleep(200);
    // The new server started empty (no persistence): a queued grant written after the reconnect would show here.
    expect(await store.balance(a, Date.now())).toBe(0);
    expect(await store.ledger(a, { limit: 10 })).toEqual([]);
  }, 30_000);
});
