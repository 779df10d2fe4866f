// Both SQL stores against the reference Keyv store (same results, same ledger) and across real processes (exact money, outbox claims).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Keyv } from 'keyv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { openStore } from '../../src/storage/open.js';
import type { SqlOutbox } from '../../src/storage/sql-outbox.js';
import { postgresUrlOrSkip } from '../support/backends.js';

const pgUrl = await postgresUrlOrSkip();
const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Backend {
  name: string;
  /** A store URL and prefix that several processes can open; `drop` removes what the run wrote. */
  make(): { url: string; prefix: string; drop: () => Promise<void> };
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    make() {
      const dir = mkdtempSync(join(tmpdir(), 'apg-sqlite-'));
      return { url: `sqlite://${join(dir, 'shared.db')}`, prefix: 'apg', drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (pgUrl) {
  backends.push({
    name: 'postgres',
    make() {
      const prefix = `apg_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const drop = async () => {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${prefix}" CASCADE`);
        await client.end();
      };
      return { url: pgUrl, prefix, drop };
    },
  });
}

/** A child process: opens the store by URL, migrates (all at once), spends concurrently, prints its counts. */
const WORKER = `
  const { openStore } = await import(${JSON.stringify(new URL('../../src/storage/open.ts', import.meta.url).href)});
  const store = await openStore(process.env.STORE_URL, { timeoutMs: 20000, prefix: process.env.STORE_PREFIX });
  await store.init();
  const w = { window: 'day', windowExpiresAt: Date.now() + 600000, freeLimit: 20, price: 10 };
  const [charges, debits] = await Promise.all([
    Promise.all(Array.from({ length: 100 }, () => store.charge('charged', w, Date.now()))),
    Promise.all(Array.from({ length: 60 }, () => store.post('debited', { amount: -1, kind: 'debit' }, Date.now()))),
  ]);
  await store.close();
  console.log(JSON.stringify({
    free: charges.filter((r) => r.ok && r.free).length,
    paid: charges.filter((r) => r.ok && !r.free).length,
    debited: debits.filter((r) => r.ok).length,
  }));`;

/** A child process: waits for START_AT (so all claim at once), claims the outbox in small batches until it is empty, prints the ids. */
const CLAIMER = `
  const { openStore } = await import(${JSON.stringify(new URL('../../src/storage/open.ts', import.meta.url).href)});
  const store = await openStore(process.env.STORE_URL, { timeoutMs: 20000, prefix: process.env.STORE_PREFIX, sweepIntervalMs: 0 });
  await store.init();
  const now = Number(process.env.NOW);
  await new Promise((r) => setTimeout(r, Math.max(0, Number(process.env.START_AT) - Date.now())));
  const ids = [];
  for (;;) {
    const got = await store.outbox.claim(now, now + 600000, 3);
    if (got.length === 0) break;
    ids.push(...got.map((d) => d.id));
  }
  await store.close();
  console.log(JSON.stringify(ids));`;

for (const backend of backends) {
  describe(`${backend.name} store: equivalence and processes`, () => {
    const target = backend.make();
    let store: Store;
    beforeAll(async () => {
      store = await openStore(target.url, { timeoutMs: 10_000, prefix: target.prefix });
      await store.init();
    });
    afterAll(async () => {
      await store?.close();
      await target.drop();
    });

    it('4 processes spend one balance exactly: free calls, paid calls and debits', async () => {
      const now = Date.now();
      await store.post('charged', { amount: 1000, kind: 'grant' }, now);
      await store.post('debited', { amount: 150, kind: 'grant' }, now);
      const env = { ...process.env, STORE_URL: target.url, STORE_PREFIX: target.prefix };
      const outs = await Promise.all(Array.from({ length: 4 }, () =>
        exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER], { env, cwd: root })));
      const total = outs.map((o) => JSON.parse(o.stdout) as Record<string, number>)
        .reduce((sum, o) => ({ free: sum.free! + o.free!, paid: sum.paid! + o.paid!, debited: sum.debited! + o.debited! }));
      expect(total).toEqual({ free: 20, paid: 100, debited: 150 });
      for (const [account, entries] of [['charged', 101], ['debited', 151]] as const) {
        expect(await store.balance(account, Date.now())).toBe(0);
        const ledger = await store.ledger(account, { limit: 1000 });
        expect(ledger.map((e) => e.seq)).toEqual(Array.from({ length: entries }, (_, i) => entries - i));
        expect(ledger.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
      }
      expect(await store.counter('charged', 'free:day', Date.now())).toBe(20);
    }, 60_000);

    it('4 processes claiming the outbox at once lease each delivery exactly once', async () => {
      const now = Date.now() + 1000 * 3_600_000; // a time of its own: nothing else is due then
      const rows = Array.from({ length: 300 }, (_, i) => ({ id: `evt_p${i}.ep1`, eventId: `evt_p${i}`, endpoint: 'ep1', type: 't', data: '{}' }));
      await (store.outbox as SqlOutbox).insert('claimed', rows, 0, now);
      const env = { ...process.env, STORE_URL: target.url, STORE_PREFIX: target.prefix, NOW: String(now), START_AT: String(Date.now() + 4000) };
      const outs = await Promise.all(Array.from({ length: 4 }, () =>
        exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CLAIMER], { env, cwd: root })));
      const per = outs.map((o) => JSON.parse(o.stdout) as string[]);
      expect(per.flat().sort()).toEqual(rows.map((r) => r.id).sort());
      // They did claim at the same time: more than one process got some.
      expect(per.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
      expect((await store.outbox!.get('claimed', rows[0]!.id))?.attempts).toBe(1);
    }, 60_000);

    it('gives the results of the reference Keyv store, operation by operation, for 1,200 random operations', async () => {
      const reference = new KeyvStore(new Keyv({ throwOnErrors: true }));
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 48271) % 2147483647; // Park-Miller: the same sequence on every run
        return seed % n;
      };
      const pick = <T>(choices: readonly T[]): T => choices[rand(choices.length)]!;
      const a = `eq_${randomUUID().slice(0, 8)}`;
      // Virtual time only moves forward from the real clock, and every expiry is >= 60 s after its
      // `now`: the reference's own Keyv TTLs never fire during the test, so `now` alone decides.
      let now = Date.now();
      // Charge ids are remembered until `until`, checked by each store's own clock: a week ahead of any virtual `now`.
      const FAR = now + 7 * 86_400_000;
      let nextHold = 0;
      const plain = (x: unknown) => JSON.parse(JSON.stringify(x ?? null, (_, v) => (v?.type === 'Buffer' ? v.data : v instanceof Uint8Array ? Array.from(v) : v)));
      for (let i = 0; i < 1200; i++) {
        now += pick([0, 0, 0, 0, 0, 0, 0, 500, 2000, 120_000]);
        const key = pick(['a', 'a:b', 'b', 'ba', 'c']);
        const expiresAt = pick([null, now + 60_000 + rand(60_000)]);
        // Mostly a fresh id for hold (sometimes a duplicate), mostly one of the last two for settle.
        const [freshHold, recentHold] = [rand(4) > 0 ? `h${nextHold}` : `h${Math.max(0, nextHold - 1)}`, `h${Math.max(0, nextHold - 1 - rand(2))}`];
        const amount = rand(300) - 80 || 5;
        const expect_ = pick([undefined, { absent: true } as const, { version: 1 + rand(3) }]);
        // Every random draw happens here, once: the closures below must hand both stores the same arguments.
        const [kind, ref, memo, window, price, free] = [pick(['grant', 'debit', 'purchase'] as const), pick([undefined, `r${rand(6)}`]), pick([undefined, "it's"]), pick(['d1', 'd2']), rand(60), rand(2) === 0];
        const [n1, n2, scope, counterName] = [rand(200), rand(250), pick([null, a]), pick([key, 'free:d1'])];
        const query = { prefix: pick([undefined, 'a', 'b']), after: pick([undefined, 'a', 'b']), limit: 1 + rand(4) };
        const page = { before: pick([undefined, 1 + rand(30)]), limit: 1 + rand(6) };
        const op: [string, (s: Store) => Promise<unknown>] = pick([
          ['put', (s: Store) => s.put(a, 'c', key, { value: new Uint8Array([i % 256, 0, 255]), size: 3, tag: `t${i}`, expiresAt }, now, expect_)],
          ['delete', (s: Store) => s.delete(a, 'c', key, now, expect_)],
          ['get', (s: Store) => s.get(a, 'c', key, now)],
          ['list', (s: Store) => s.list(a, 'c', query, now)],
          ['incr', (s: Store) => s.incr(a, counterName, amount, now + 60_000)],
          ['counter', (s: Store) => s.counter(a, counterName, now)],
          ['post', (s: Store) => s.post(a, { amount, kind, reference: ref, memo }, now)],
          ['charge', (s: Store) => s.charge(a, { window, windowExpiresAt: now + 60_000, freeLimit: 3, price }, now)],
          // Charges and voids by ids from a small pool, so voids meet committed, voided and unknown ids, and holds.
          ['charge', (s: Store) => s.charge(a, { window: 'd1', windowExpiresAt: now + 60_000, freeLimit: 3, price, voidable: { id: `c${n1 % 5}`, until: FAR } }, now)],
          ['void', (s: Store) => s.void(a, { id: free ? `c${n2 % 5}` : recentHold, window: 'd1', until: FAR, memo }, now)],
          ['hold', (s: Store) => s.hold(a, { holdId: freshHold, amount: n1, expiresAt: now + 60_000 + nextHold }, now)],
          ['settle', (s: Store) => s.settle(a, recentHold, n2, now, memo)],
          ['balance', (s: Store) => s.balance(a, now)],
          ['ledger', (s: Store) => s.ledger(a, page)],
          ['claim', (s: Store) => s.claim(scope, `${a}:${key}`, `v${i}`, expiresAt, now)],
          ['releaseClaim', (s: Store) => s.releaseClaim(scope, `${a}:${key}`)],
        ] as const);
        if (op[0] === 'hold') nextHold++;
        // Each store gets the same closure, so both see exactly the same arguments.
        const [want, got] = [plain(await op[1](reference)), plain(await op[1](store))];
        expect(got, `operation ${i} (${op[0]})`).toEqual(want);
      }
      expect(plain(await store.ledger(a, { limit: 2000 }))).toEqual(plain(await reference.ledger(a, { limit: 2000 })));
    }, 60_000);
  });
}
