// The in-memory store's webhook outbox: deliveries of every account in one map, written inside the operations that cause them.
import type { Millis } from './contract.js';
import {
  applyOutcome, listPage, OUTBOX_KEEP_MS, type DeliveryOutcome, type DeliveryQuery, type Outbox, type OutboxDelivery, type OutboxRow,
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
    return Promise.resolve(applyOutcome(this.rows.get(id), account, attempt, outcome, now));
  }

  list(query: DeliveryQuery): Promise<OutboxDelivery[]> {
    return Promise.resolve(listPage(this.rows.values(), query));
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
