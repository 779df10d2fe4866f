// The in-memory store's webhook outbox: deliveries of every account in one map, written inside the operations that cause them.
import type { Millis } from './contract.js';
import {
  beforeCursor, newestFirst, OUTBOX_KEEP_MS, type DeliveryOutcome, type DeliveryQuery, type Outbox, type OutboxDelivery, type OutboxRow,
} from './outbox.js';

export class MemoryOutbox implements Outbox {
  private readonly rows = new Map<string, OutboxDelivery>();

  /** Writes `rows` (insert-once by id) for `account`, whose balance is now `balance`. */
  write(account: string, rows: readonly OutboxRow[] | undefined, balance: number, now: Millis): void {
    if (!rows) return;
    for (const r of rows) {
      if (this.rows.has(r.id)) continue;
      this.rows.set(r.id, {
        id: r.id, eventId: r.eventId, endpoint: r.endpoint, type: r.type, data: r.data, account, createdAt: now, balance,
        status: 'pending', attempts: 0, nextAt: now, leaseUntil: 0, lastError: null, updatedAt: now,
      });
    }
  }

  claim(now: Millis, leaseUntil: Millis, limit: number): Promise<OutboxDelivery[]> {
    const due = [...this.rows.values()].filter((d) => d.status === 'pending' && d.nextAt <= now && d.leaseUntil <= now);
    due.sort((a, b) => a.nextAt - b.nextAt || a.createdAt - b.createdAt);
    const out = due.slice(0, limit).map((d) => {
      d.attempts += 1;
      d.leaseUntil = leaseUntil;
      d.updatedAt = now;
      return { ...d };
    });
    return Promise.resolve(out);
  }

  finish(account: string, id: string, attempt: number, outcome: DeliveryOutcome, now: Millis): Promise<boolean> {
    const d = this.rows.get(id);
    if (!d || d.account !== account || d.status !== 'pending' || d.attempts !== attempt) return Promise.resolve(false);
    d.leaseUntil = 0;
    d.updatedAt = now;
    if (outcome.delivered) d.status = 'delivered';
    else {
      d.lastError = outcome.error;
      if (outcome.retryAt === null) d.status = 'failed';
      else d.nextAt = outcome.retryAt;
    }
    return Promise.resolve(true);
  }

  list(query: DeliveryQuery): Promise<OutboxDelivery[]> {
    const all = [...this.rows.values()].filter((d) => (query.status === undefined || d.status === query.status) && beforeCursor(d, query.before));
    return Promise.resolve(all.sort(newestFirst).slice(0, query.limit).map((d) => ({ ...d })));
  }

  get(account: string, id: string): Promise<OutboxDelivery | null> {
    const d = this.rows.get(id);
    return Promise.resolve(d && d.account === account ? { ...d } : null);
  }

  retry(account: string, id: string, now: Millis): Promise<boolean> {
    const d = this.rows.get(id);
    if (!d || d.account !== account) return Promise.resolve(false);
    Object.assign(d, { status: 'pending', attempts: 0, nextAt: now, leaseUntil: 0, updatedAt: now });
    return Promise.resolve(true);
  }

  /** Drops delivered and failed deliveries older than OUTBOX_KEEP_MS; returns how many. */
  sweep(now: Millis): number {
    let n = 0;
    for (const [id, d] of this.rows) {
      if (d.status !== 'pending' && d.updatedAt + OUTBOX_KEEP_MS <= now) (this.rows.delete(id), n++);
    }
    return n;
  }
}
