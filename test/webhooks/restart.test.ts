// Webhook durability across processes, on the standalone server (`aipaygent serve`) and a real store (SQLite file, Redis):
// an event caused while the receiver is down survives a SIGKILL of the server and arrives once, with its original id,
// when a new server on the same store finds the receiver up; two servers sharing a store never both deliver one event.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';
import { call } from '../support/mounts.js';
import { startStandalone, type Standalone } from '../support/standalone.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

const ADMIN = 'webhook-restart-admin-token-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  name: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'apg-webhooks-'));
  return { name: 'sqlite', env: { AIPAYGENT_STORE: `sqlite://${dir}/store.db` }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function redisBackend(): Promise<Backend | null> {
  const url = await redisUrlOrSkip();
  if (!url) return null;
  const prefix = `apgwh_${randomUUID().slice(0, 8)}:`;
  return { name: 'redis', env: { AIPAYGENT_STORE: url, AIPAYGENT_STORE_PREFIX: prefix }, cleanup: () => dropPrefix(url, prefix) };
}

async function postgresBackend(): Promise<Backend | null> {
  const url = await postgresUrlOrSkip();
  if (!url) return null;
  const prefix = `apgwhpg_${randomUUID().slice(0, 8)}_`;
  return { name: 'postgres', env: { AIPAYGENT_STORE: url, AIPAYGENT_STORE_PREFIX: prefix }, cleanup: () => dropPrefix(url, prefix) };
}

const backends: Array<() => Backend | Promise<Backend | null>> = [sqliteBackend, redisBackend, postgresBackend];

/** The standalone's environment: webhooks of every event to `rx`, retried after `firstRetryMs` (doubling). */
const serverEnv = (b: Backend, rx: Receiver, firstRetryMs: number): Record<string, string> => ({
  ...b.env,
  AIPAYGENT_MULTI_PROCESS: '1',
  AIPAYGENT_ADMIN_TOKEN: ADMIN,
  AIPAYGENT_WEBHOOKS: JSON.stringify([{ url: rx.url, events: ['*'], secret: rx.secret }]),
  AIPAYGENT_WEBHOOKS_ALLOW_INSECURE: '1',
  AIPAYGENT_WEBHOOK_FIRST_RETRY_MS: String(firstRetryMs),
  AIPAYGENT_STORE_TIMEOUT_MS: '20000',
});

const admin = (s: Standalone, path: string, body?: unknown) => call(`${s.url}${path}`, { key: ADMIN, body });

async function deliveries(s: Standalone): Promise<any[]> {
  const r = await admin(s, '/admin/webhooks/deliveries?limit=200');
  expect(r.status).toBe(200);
  return r.body.deliveries;
}

async function killed(s: Standalone): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGKILL');
  await exited;
}

for (const make of backends) {
  const backend = await make();
  const name = backend?.name ?? 'redis';
  (backend ? describe : describe.skip)(`webhooks across processes [standalone on ${name}]`, () => {
    const b = backend!;
    const servers: Standalone[] = [];
    const receivers: Receiver[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => killed(s)));
      await Promise.all(receivers.map((r) => r.close()));
      await b.cleanup();
    });
    const start = async (env: Record<string, string>) => {
      const s = await startStandalone(env);
      servers.push(s);
      return s;
    };

    it('receiver down, server killed, new server started, receiver up: each event arrives once with its original id', async () => {
      const rx = await startReceiver({ listen: false });
      receivers.push(rx);
      // 2 s before the second try: the kill below lands between tries, not while one holds its lease (a lease outlives a crash by design).
      const env = serverEnv(b, rx, 2000);
      const first = await start(env);
      const created = await admin(first, '/admin/keys', { label: 'before the crash' });
      expect(created.status).toBe(201);
      const account = created.body.account_id as string;
      expect((await admin(first, '/admin/credits', { account_id: account, amount_micro_usd: 5000, reason: 'crash test' })).status).toBe(201);

      // Both pending, each tried once and refused (the receiver is not listening).
      let pending: any[] = [];
      for (const end = Date.now() + 15_000; Date.now() < end; await sleep(50)) {
        pending = (await deliveries(first)).filter((d) => d.account_id === account);
        if (pending.length === 2 && pending.every((d) => d.attempts >= 1 && d.last_error !== null)) break;
      }
      expect(pending.map((d) => d.type).sort()).toEqual(['credits.granted', 'key.created']);
      for (const d of pending) {
        expect(d).toMatchObject({ status: 'pending', url: rx.url });
        expect(d.last_error).toMatch(/ECONNREFUSED/);
        expect(Date.parse(d.next_attempt_at)).toBeGreaterThan(Date.now() - 1000);
      }
      const ids = new Map(pending.map((d) => [d.type as string, d.event_id as string]));

      await killed(first);
      const second = await start(env);
      await rx.up();
      await rx.waitFor(2, undefined, 30_000);
      // Longer than the next retry would wait: a second delivery of either event would show up.
      await sleep(2500);
      const mine = rx.received.filter((r) => r.data.account_id === account);
      expect(mine.map((r) => r.type).sort()).toEqual(['credits.granted', 'key.created']);
      for (const r of mine) expect(r.id).toBe(ids.get(r.type));
      expect(mine.find((r) => r.type === 'credits.granted')!.data).toMatchObject({ amount_micro_usd: 5000, balance_micro_usd: 5000, reason: 'crash test' });
      expect(mine.find((r) => r.type === 'key.created')!.data).toMatchObject({ key_id: created.body.key_id, label: 'before the crash' });
      expect(rx.rejected).toBe(0);
      const after = (await deliveries(second)).filter((d) => d.account_id === account);
      expect(after.map((d) => d.status)).toEqual(['delivered', 'delivered']);
      expect(after.every((d) => d.attempts >= 2)).toBe(true);
      await second.stop();
    }, 90_000);

    it('two servers on one store, 30 events caused at once: each delivered exactly once', async () => {
      const rx = await startReceiver();
      receivers.push(rx);
      const env = serverEnv(b, rx, 200);
      const pair = await Promise.all([start(env), start(env)]);
      const made = await Promise.all(
        Array.from({ length: 30 }, (_, i) => admin(pair[i % 2]!, '/admin/keys', { label: `race ${i}` })),
      );
      for (const r of made) expect(r.status).toBe(201);
      const keyIds = new Set(made.map((r) => r.body.key_id as string));
      const mine = () => rx.received.filter((r) => r.type === 'key.created' && keyIds.has(r.data.key_id));
      for (const end = Date.now() + 30_000; mine().length < 30 && Date.now() < end; ) await sleep(50);
      // Several polls of both servers later: a second delivery of any event would have arrived.
      await sleep(2500);
      const got = mine();
      const counts = new Map<string, number>();
      for (const r of got) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
      expect(counts.size).toBe(30);
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
      expect(new Set(got.map((r) => r.data.key_id))).toEqual(keyIds);
      expect(rx.rejected).toBe(0);
      await Promise.all(pair.map((s) => s.stop()));
    }, 90_000);
  });
}
