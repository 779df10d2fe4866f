// Bulk work on Redis runs in bounded scripts: erasing 50k indexed records, listing and searching past many expired ones, releasing many expired holds.
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { canStartRedis, startOwnRedis, type OwnServer } from '../support/own-servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = (s: string) => new TextEncoder().encode(s);
const USERS_KEYS = 50_000;
/**
 * The slowest command the server's own SLOWLOG may show. A bounded script takes about a millisecond; the margin is
 * for a loaded shared machine, where the server process may be descheduled mid-script. Unbounded, these took 0.2-1 s.
 */
const SLOW_US = 50_000;
const HOLDS = 20_000;
const COMMON = 'note about the kafka stream and postgr tabl with our deploy pipelin on friday at the offic near the river';

describe.skipIf(!canStartRedis())('redis bulk work in bounded batches', () => {
  let server: OwnServer;
  let store: Store;
  let admin: ReturnType<typeof createClient>;
  beforeAll(async () => {
    server = await startOwnRedis();
    store = await openStore(server.url, { timeoutMs: 10_000, prefix: `apgbulk:${randomUUID().slice(0, 8)}:` });
    await store.init();
    admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await admin.connect();
    // Every command over 1 ms is logged, so the slowest one can be reported.
    await admin.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '1000', 'slowlog-max-len', '100000']);
  });
  afterAll(async () => {
    await store?.close();
    admin?.destroy();
    await server?.stop();
  });

  /** The slowest command the server logged since the last call (µs), with its name. */
  const slowest = async (): Promise<{ us: number; command: string }> => {
    const log = (await admin.sendCommand(['SLOWLOG', 'GET', '100000'])) as Array<[number, number, number, string[]]>;
    await admin.sendCommand(['SLOWLOG', 'RESET']);
    const worst = log.reduce((w, e) => (e[2] > w[2] ? e : w), [0, 0, 0, ['-']] as [number, number, number, string[]]);
    return { us: worst[2], command: worst[3].slice(0, 2).join(' ') };
  };

  /** A record with a search document of 22 terms: its key, then common words shared by every record. */
  const put = (a: string, c: string, k: string, expiresAt: number | null = null) =>
    store.put(a, c, k, { value: bytes(`{"k":"${k}"}`), size: 10, tag: 't', expiresAt, index: `${k} ${COMMON}` }, Date.now());

  it(`erasing a user with ${USERS_KEYS} indexed records: another account's reads stay fast, concurrent writes end up whole, the count is exact`, { timeout: 120_000 }, async () => {
    const [a, b] = [`erase_${randomUUID().slice(0, 8)}`, `reader_${randomUUID().slice(0, 8)}`];
    for (let i = 0; i < USERS_KEYS; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => put(a, 'm:u', `k${i + j}`)));
    await store.post(b, { amount: 42, kind: 'grant' }, Date.now());
    await slowest();

    // The other account's balance, read in a loop: its worst latency alone, then while the erasure runs.
    const reader = async (ms: number, during?: Promise<unknown>) => {
      const latencies: number[] = [];
      const end = Date.now() + ms;
      let done = false;
      void during?.finally(() => (done = true));
      while (during ? !done : Date.now() < end) {
        const t0 = performance.now();
        expect(await store.balance(b, Date.now())).toBe(42);
        latencies.push(performance.now() - t0);
      }
      return latencies;
    };
    const baseline = await reader(1000);
    // Writes to the erased user while the erasure runs: each record ends either erased or whole.
    const written: string[] = [];
    let erasing = true;
    const writer = (async () => {
      for (let i = 0; erasing; i++) {
        const r = await put(a, 'm:u', `new${i}`);
        if (r.ok) written.push(`new${i}`);
      }
    })();
    const t0 = performance.now();
    const purge = store.purge(a, 'm:u');
    const during = await reader(0, purge);
    const erased = await purge;
    const erasureMs = performance.now() - t0;
    erasing = false;
    await writer;
    const max = (xs: number[]) => Math.max(...xs);
    const slow = await slowest();
    console.log(`erased ${erased} records in ${erasureMs.toFixed(0)} ms; reader worst ${max(baseline).toFixed(1)} ms alone, ` +
      `${max(during).toFixed(1)} ms during (${during.length} reads); slowest server command ${(slow.us / 1000).toFixed(1)} ms (${slow.command}); ` +
      `${written.length} records written meanwhile`);
    expect(max(during)).toBeLessThan(max(baseline) + 50);
    expect(slow.us).toBeLessThan(SLOW_US);

    const listed = new Set<string>();
    for (let after: string | undefined; ; ) {
      const page = await store.list(a, 'm:u', { limit: 1000, after }, Date.now());
      for (const r of page) listed.add(r.key);
      if (page.length < 1000) break;
      after = page.at(-1)!.key;
    }
    let survivors = 0;
    for (const key of written) {
      const record = await store.get(a, 'm:u', key, Date.now());
      // Whole: listed and readable, or gone from both; never an index entry without its record or the reverse.
      expect(record !== null, key).toBe(listed.has(key));
      if (record) survivors++;
    }
    expect(listed.size).toBe(survivors);
    expect(erased).toBe(USERS_KEYS + written.length - survivors);
    console.log(`${written.length - survivors} of them erased, ${survivors} survived`);
    // The survivors are found by search, and nothing else is: the index went with the records.
    const found = await store.search(a, 'm:u', { units: [{ words: ['kafka'], prefix: false }], limit: 1000 }, Date.now());
    expect(found.map((h) => h.record.key).sort()).toEqual([...listed].sort());
  });

  it('searches past thousands of expired indexed records, in bounded scripts', { timeout: 60_000 }, async () => {
    const a = `stalesearch_${randomUUID().slice(0, 8)}`;
    const soon = Date.now() + 5000;
    for (let i = 0; i < 20_000; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => put(a, 'c', `a${i + j}`, soon)));
    for (const k of ['b1', 'b2', 'b3']) await put(a, 'c', k);
    await sleep(soon + 100 - Date.now());
    await slowest();
    const keys = async () => (await store.search(a, 'c', { units: [{ words: ['kafka'], prefix: false }], limit: 10 }, Date.now())).map((h) => h.record.key).sort();
    // Expired documents are never hits; each search drops a bounded share of them from the index.
    for (let i = 0; i < 5; i++) expect(await keys()).toEqual(['b1', 'b2', 'b3']);
    const slow = await slowest();
    console.log(`searched past 20,000 expired records: slowest server command ${(slow.us / 1000).toFixed(1)} ms`);
    expect(slow.us).toBeLessThan(SLOW_US);
  });

  it('lists live records behind thousands of expired ones, in bounded scripts', { timeout: 60_000 }, async () => {
    const a = `stale_${randomUUID().slice(0, 8)}`;
    // Expiring together once all are written; their index entries stay until a list or put meets them.
    const soon = Date.now() + 5000;
    for (let i = 0; i < 20_000; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => put(a, 'c', `a${String(i + j).padStart(5, '0')}`, soon)));
    for (const k of ['b1', 'b2', 'b3']) await put(a, 'c', k);
    await sleep(soon + 100 - Date.now());
    await slowest();
    expect((await store.list(a, 'c', { limit: 10 }, Date.now())).map((r) => r.key)).toEqual(['b1', 'b2', 'b3']);
    expect((await store.list(a, 'c', { limit: 2, after: 'a' }, Date.now())).map((r) => r.key)).toEqual(['b1', 'b2']);
    const slow = await slowest();
    console.log(`listed past 20,000 expired records: slowest server command ${(slow.us / 1000).toFixed(1)} ms`);
    expect(slow.us).toBeLessThan(SLOW_US);
  });

  it(`releases ${HOLDS} expired holds of one account in bounded scripts, before any money operation`, { timeout: 60_000 }, async () => {
    const a = `holds_${randomUUID().slice(0, 8)}`;
    await store.post(a, { amount: HOLDS, kind: 'grant' }, Date.now());
    const soon = Date.now() + 8000;
    for (let i = 0; i < HOLDS; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => store.hold(a, { holdId: `h${i + j}`, amount: 1, expiresAt: soon }, Date.now())));
    expect(await store.balance(a, Date.now())).toBe(0);
    await sleep(soon + 100 - Date.now());
    await slowest();
    // The charge must see the released balance (every release happens first, a batch per script).
    expect(await store.charge(a, { window: 'w', windowExpiresAt: Date.now() + 60_000, freeLimit: 0, price: HOLDS }, Date.now())).toMatchObject({ ok: true, balance: 0 });
    const slow = await slowest();
    console.log(`released ${HOLDS} expired holds: slowest server command ${(slow.us / 1000).toFixed(1)} ms`);
    expect(slow.us).toBeLessThan(SLOW_US);
    const kinds = (await store.ledger(a, { limit: 2 * HOLDS + 10 })).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'release').length).toBe(HOLDS);
    expect(kinds[0]).toBe('debit');
  });
});
