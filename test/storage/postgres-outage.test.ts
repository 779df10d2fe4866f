// Fail-closed on Postgres: a server of the test's own is killed mid-run (every call then rejects fast with 503), then restarted.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { freePort } from '../support/own-servers.js';

const exec = promisify(execFile);
const TIMEOUT_MS = 2000;
const BOUND_MS = 2500;

/** The newest installed server binaries (Debian layout), or null. */
function serverBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((x, y) => Number(y) - Number(x));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

const bin = serverBin();
if (!bin) {
  const message = 'no PostgreSQL server binaries under /usr/lib/postgresql';
  if (process.env.REQUIRE_BACKENDS === '1') throw new Error(`${message}; REQUIRE_BACKENDS=1 forbids skipping`);
  console.warn(`${message}: skipping the Postgres outage test`);
}

/** The server refuses to run as root: as root, run its tools as the postgres user. */
const asServerUser = (tool: string, args: string[]) =>
  process.getuid?.() === 0 ? exec('runuser', ['-u', 'postgres', '--', join(bin!, tool), ...args]) : exec(join(bin!, tool), args);

/** Runs `call`, returning how it ended and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown; ok: boolean }> {
  const start = performance.now();
  try {
    await call();
    return { ms: performance.now() - start, error: null, ok: true };
  } catch (error) {
    return { ms: performance.now() - start, error, ok: false };
  }
}

describe.skipIf(!bin)('postgres outage: fail closed, then recover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apg-pg-outage-'));
  const data = join(dir, 'data');
  const prefix = `apg_outage_${randomUUID().slice(0, 8)}`;
  let port = 0;
  let store: Store;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const pgCtl = (...args: string[]) => asServerUser('pg_ctl', ['-D', data, ...args]);
  const start = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start');
  const a = 'outage_account';
  let frozen: string[] = [];
  // Every contract method except init/close, each with valid arguments.
  const calls: Array<[string, (s: Store) => Promise<unknown>]> = [
    ['get', (s) => s.get(a, 'c', 'k', Date.now())],
    ['put', (s) => s.put(a, 'c', 'k', { value: new Uint8Array([1]), size: 1, tag: 't', expiresAt: null }, Date.now())],
    ['delete', (s) => s.delete(a, 'c', 'other', Date.now())],
    ['list', (s) => s.list(a, 'c', { limit: 10 }, Date.now())],
    ['purge', (s) => s.purge(a, 'empty')],
    ['incr', (s) => s.incr(a, 'n', 1, Date.now() + 60_000)],
    ['counter', (s) => s.counter(a, 'n', Date.now())],
    ['balance', (s) => s.balance(a, Date.now())],
    ['post', (s) => s.post(a, { amount: 1, kind: 'grant' }, Date.now())],
    ['charge', (s) => s.charge(a, { window: 'w', windowExpiresAt: Date.now() + 60_000, freeLimit: 1, price: 1 }, Date.now())],
    ['void', (s) => s.void(a, { id: randomUUID(), window: 'w', until: Date.now() + 60_000 }, Date.now())],
    ['void', (s) => s.void(a, { id: 'chg_x', window: 'w', until: Date.now() + 60_000 }, Date.now())],
    ['hold', (s) => s.hold(a, { holdId: randomUUID(), amount: 1, expiresAt: Date.now() + 60_000 }, Date.now())],
    ['settle', (s) => s.settle(a, 'unknown', 1, Date.now())],
    ['ledger', (s) => s.ledger(a, { limit: 5 })],
    ['claim', (s) => s.claim(null, randomUUID(), 'v', null, Date.now())],
    ['updateClaim', (s) => s.updateClaim(a, 'c', 'v', null)],
    ['releaseClaim', (s) => s.releaseClaim(a, 'c')],
    ['sweep', (s) => s.sweep(Date.now())],
  ];

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    if (process.getuid?.() === 0) chownSync(dir, Number((await exec('id', ['-u', 'postgres'])).stdout), Number((await exec('id', ['-g', 'postgres'])).stdout));
    await asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    port = await freePort();
    await start();
    store = await openStore(`postgres://postgres@127.0.0.1:${port}/postgres`, { timeoutMs: TIMEOUT_MS, prefix });
    await store.init();
  }, 120_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    if (frozen.length > 0) await exec('kill', ['-CONT', ...frozen]).catch(() => {});
    await store?.close();
    await pgCtl('-m', 'immediate', 'stop').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('works while the server is up', async () => {
    expect(await store.post(a, { amount: 100, kind: 'grant', reference: 'before' }, Date.now())).toMatchObject({ ok: true, balance: 100 });
    for (const [name, call] of calls) expect((await timed(() => call(store))).ok, name).toBe(true);
  });

  /** Every call must reject with StoreUnavailableError, each within the bound. */
  async function expectAllFailClosed(): Promise<void> {
    const results = await Promise.all(calls.map(async ([name, call]) => [name, await timed(() => call(store))] as const));
    for (const [name, r] of results) {
      expect(r.ok, `${name} must fail closed`).toBe(false);
      expect(r.error, name).toBeInstanceOf(StoreUnavailableError);
      expect(r.ms, name).toBeLessThan(BOUND_MS);
    }
  }

  /** Waits until the store answers again (the pool reconnects on demand), at most 10 s. */
  async function untilAnswering(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await timed(() => store.balance(a, Date.now()))).ok) {
      if (Date.now() > deadline) throw new Error('the store did not recover within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a frozen server (no answer at all): every call rejects with StoreUnavailableError within 2.5 s', async () => {
    const postmaster = (await exec('head', ['-n', '1', join(data, 'postmaster.pid')])).stdout.trim();
    const children = (await exec('ps', ['-o', 'pid=', '--ppid', postmaster])).stdout.split(/\s+/).filter(Boolean);
    // SIGSTOP our own cluster's processes: sockets stay open but nothing answers, like a hung host.
    frozen = [postmaster, ...children];
    await exec('kill', ['-STOP', ...frozen]);
    try {
      await expectAllFailClosed();
      await expectAllFailClosed();
    } finally {
      await exec('kill', ['-CONT', ...frozen]);
      frozen = [];
    }
    await untilAnswering();
    for (const [name, call] of calls) expect((await timed(() => call(store))).ok, name).toBe(true);
  }, 60_000);

  it('killed mid-run: calls in flight and every later call reject with StoreUnavailableError within 2.5 s', async () => {
    // Keep calls in flight while the server dies: each must settle, either way, within the bound.
    let stopped = false;
    const settled: Array<Awaited<ReturnType<typeof timed>>> = [];
    const load = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; !stopped; i += 8) settled.push(await timed(() => calls[i % calls.length]![1](store)));
    });
    await new Promise((r) => setTimeout(r, 300));
    await pgCtl('-m', 'immediate', 'stop');
    await new Promise((r) => setTimeout(r, 300));
    stopped = true;
    await Promise.all(load);
    expect(settled.some((r) => r.ok)).toBe(true);
    expect(settled.some((r) => !r.ok)).toBe(true);
    for (const r of settled) {
      expect(r.ms).toBeLessThan(BOUND_MS);
      if (!r.ok) expect(r.error).toBeInstanceOf(StoreUnavailableError);
    }
    await expectAllFailClosed();
    await expectAllFailClosed();
  }, 30_000);

  it('recovers once the server is back, with the data it had', async () => {
    await start();
    await untilAnswering();
    expect(await store.post(a, { amount: 1, kind: 'grant', reference: 'before' }, Date.now())).toMatchObject({ ok: false, reason: 'duplicate' });
    for (const [name, call] of calls) {
      const r = await timed(() => call(store));
      expect(r.ok, `${name}: ${String(r.error)}`).toBe(true);
    }
    expect(unhandled).toEqual([]);
  }, 30_000);
});
