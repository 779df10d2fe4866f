// The generic Keyv store's webhook outbox: one Keyv entry per delivery plus one index entry listing their ids, all
// changed under one in-process lock (so, like the rest of KeyvStore, exact in ONE process only).
import type { Keyv } from 'keyv';
import type { Millis } from './contract.js';
import { ttlUntil } from './keyv-store.js';
import type { KeyedLock } from './lock.js';
import {
  applyOutcome, listPage, OUTBOX_KEEP_MS, type DeliveryOutcome, type DeliveryQuery, type Outbox, type OutboxDelivery, type OutboxRow,
} from './outbox.js';

const k = (...parts: string[]): string => JSON.stringify(parts);
const INDEX = k('obi');
/** The lock of every outbox change. Money operations take it inside their account's lock (account, then outbox); outbox calls take only it. */
const LOCK = k('ob');

/**
 * Limits, fine for the small one-process setups this store is for: the index is one array read and rewritten whole
 * by every write, and claim and list read every delivery still kept (pending ones, and finished ones for
 * OUTBOX_KEEP_MS), so each costs O(deliveries kept). A store with thousands of deliveries a day wants Redis or SQL.
 * Finished deliveries also get a Keyv TTL of OUTBOX_KEEP_MS; `sweep` drops their ids from the index.
 */
export class KeyvOutbox implements Outbox {
  constructor(private readonly keyv: Keyv, private readonly lock: KeyedLock) {}

  private async ids(): Promise<string[]> {
    return ((await this.keyv.get(INDEX)) as string[] | undefined) ?? [];
  }

  /** A copy: without a serializer the Keyv hands back the stored object itself, never to be mutated. */
  private async read(id: string): Promise<OutboxDelivery | null> {
    const d = (await this.keyv.get(k('od', id))) as OutboxDelivery | undefined;
    return d ? { ...d } : null;
  }

  private async save(d: OutboxDelivery): Promise<void> {
    await this.keyv.set(k('od', d.id), d, d.status === 'pending' ? undefined : ttlUntil(d.updatedAt + OUTBOX_KEEP_MS, d.updatedAt));
  }

  private async all(): Promise<OutboxDelivery[]> {
    const found = await Promise.all((await this.ids()).map((id) => this.read(id)));
    return found.filter((d): d is OutboxDelivery => d !== null);
  }

  /** Writes `rows` once by id for `account` (balance after the operation). Called inside the operation's own lock. */
  async write(account: string, rows: readonly OutboxRow[] | undefined, balance: number, now: Millis): Promise<void> {
    if (!rows?.length) return;
    await this.lock.run(LOCK, async () => {
      const ids = await this.ids();
      const added: string[] = [];
      for (const r of rows) {
        if (added.includes(r.id) || (await this.keyv.get(k('od', r.id))) !== undefined) continue;
        await this.save({
          id: r.id, eventId: r.eventId, endpoint: r.endpoint, type: r.type, data: r.data, account, createdAt: now, balance,
          status: 'pending', attempts: 0, nextAt: now, leaseUntil: 0, lastError: null, updatedAt: now,
        });
        added.push(r.id);
      }
      if (added.length) await this.keyv.set(INDEX, [...ids, ...added]);
    });
  }

  claim(now: Millis, leaseUntil: Millis, limit: number): Promise<OutboxDelivery[]> {
    return this.lock.run(LOCK, async () => {
      const due = (await this.all()).filter((d) => d.status === 'pending' && d.nextAt <= now && d.leaseUntil <= now);
      due.sort((a, b) => a.nextAt - b.nextAt || a.createdAt - b.createdAt);
      const out = due.slice(0, limit).map((d) => ({ ...d, attempts: d.attempts + 1, leaseUntil, updatedAt: now }));
      for (const d of out) await this.save(d);
      return out.map((d) => ({ ...d }));
    });
  }

  finish(account: string, id: string, attempt: number, outcome: DeliveryOutcome, now: Millis): Promise<boolean> {
    return this.lock.run(LOCK, async () => {
      const d = (await this.read(id)) ?? undefined;
      if (!applyOutcome(d, account, attempt, outcome, now)) return false;
      await this.save(d);
      return true;
    });
  }

  async list(query: DeliveryQuery): Promise<OutboxDelivery[]> {
    return listPage(await this.all(), query);
  }

  async get(account: string, id: string): Promise<OutboxDelivery | null> {
    const d = await this.read(id);
    return d && d.account === account ? d : null;
  }

  retry(account: string, id: string, now: Millis): Promise<boolean> {
    return this.lock.run(LOCK, async () => {
      const d = await this.read(id);
      if (!d || d.account !== account) return false;
      await this.save({ ...d, status: 'pending', attempts: 0, nextAt: now, leaseUntil: 0, updatedAt: now });
      return true;
    });
  }

  /** Drops finished deliveries older than OUTBOX_KEEP_MS (and ids the Keyv expired) from the index; returns how many. */
  sweep(now: Millis): Promise<number> {
    return this.lock.run(LOCK, async () => {
      const ids = await this.ids();
      const kept: string[] = [];
      for (const id of ids) {
        const d = await this.read(id);
        if (d && (d.status === 'pending' || d.updatedAt + OUTBOX_KEEP_MS > now)) kept.push(id);
        else if (d) await this.keyv.delete(k('od', id));
      }
      if (kept.length !== ids.length) await this.keyv.set(INDEX, kept);
      return ids.length - kept.length;
    });
  }
}
