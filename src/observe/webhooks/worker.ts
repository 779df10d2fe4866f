// Delivers the outbox: claims due deliveries (a lease, so no two processes send one at once), POSTs each signed, records the outcome.
import type { Events } from '../events.js';
import type { Logger } from '../logger.js';
import type { Store } from '../../storage/contract.js';
import type { DeliveryOutcome, OutboxDelivery } from '../../storage/outbox.js';
import { bounded } from '../../storage/timeout.js';
import { iso } from '../../time.js';
import { resolvedAddressProblem } from './address.js';
import type { WebhookEndpoint, WebhooksConfig } from './config.js';
import { signatureHeaders } from './signer.js';

/** How often the outbox is polled when nothing nudged the worker. */
const POLL_MS = 1000;
/** Deliveries claimed per poll (sent in parallel). */
const BATCH = 20;
const MAX_BACKOFF_MS = 3_600_000;
/** The events whose data carries the account's balance after the operation. */
const WITH_BALANCE = new Set(['credits.purchased', 'credits.granted', 'credits.refunded', 'balance.low', 'spend_cap.reached']);

/** The body of a delivery: Standard Webhooks' { type, timestamp, data }. */
export function deliveryBody(d: OutboxDelivery): string {
  const data = JSON.parse(d.data) as Record<string, unknown>;
  if (WITH_BALANCE.has(d.type)) data.balance_micro_usd = d.balance;
  return JSON.stringify({ type: d.type, timestamp: iso(d.createdAt), data });
}

/** Wait before try `attempt + 1`: doubling from `first`, at most an hour, ±20% so retries of many deliveries spread. */
export const backoffMs = (first: number, attempt: number, random = Math.random()): number =>
  Math.round(Math.min(first * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (0.8 + 0.4 * random));

export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly byName: Map<string, WebhookEndpoint>;

  constructor(
    private readonly store: Store,
    private readonly config: WebhooksConfig,
    private readonly logger: Logger,
    private readonly storeTimeoutMs: number,
    private readonly userAgent: string,
    /** Each attempt's outcome, for /metrics (aipaygent_webhook_deliveries_total). */
    private readonly events?: Events,
  ) {
    this.byName = new Map(config.endpoints.map((e) => [e.name, e]));
  }

  start(): void {
    this.timer ??= setInterval(() => this.nudge(), POLL_MS).unref();
    this.nudge();
  }

  /** Polls now (or right after the poll under way): something may have become due. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.poll()
      .catch((error: unknown) => this.logger.warn('aipaygent: webhook outbox unreachable; retrying', { error }))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) (this.again = false, this.nudge());
      });
  }

  /** Stops polling and waits for the deliveries under way (their outcome is recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async poll(): Promise<void> {
    const outbox = this.store.outbox!;
    for (;;) {
      const now = Date.now();
      const lease = now + this.config.timeoutMs + 30_000;
      const batch = await bounded(outbox.claim(now, lease, BATCH), this.storeTimeoutMs);
      await Promise.all(batch.map((d) => this.deliver(d)));
      if (batch.length < BATCH || this.stopped) return;
    }
  }

  private async deliver(d: OutboxDelivery): Promise<void> {
    const outcome = await this.attempt(d);
    if (this.events?.active) {
      this.events.emit({ type: 'webhook', event: d.type, outcome: outcome.delivered ? 'delivered' : outcome.retryAt === null ? 'failed' : 'retried' });
    }
    const recorded = await bounded(this.store.outbox!.finish(d.account, d.id, d.attempts, outcome, Date.now()), this.storeTimeoutMs).catch((error: unknown) => {
      // Left leased: it is tried again when the lease runs out (at least once, never lost).
      this.logger.warn('aipaygent: webhook delivery outcome not recorded; it will be retried', { id: d.id, error });
      return true;
    });
    if (!recorded) this.logger.warn('aipaygent: webhook delivery outlived its lease; another attempt owns it now', { id: d.id });
  }

  private async attempt(d: OutboxDelivery): Promise<DeliveryOutcome> {
    const endpoint = this.byName.get(d.endpoint);
    const retryAt = d.attempts >= this.config.maxAttempts ? null : Date.now() + backoffMs(this.config.firstRetryMs, d.attempts);
    if (!endpoint) return { delivered: false, error: `endpoint ${d.endpoint} is no longer configured`, retryAt: null };
    try {
      if (!this.config.allowInsecure) {
        const problem = await resolvedAddressProblem(endpoint.url.hostname);
        if (problem) return { delivered: false, error: `refused: ${problem}`, retryAt };
      }
      const body = deliveryBody(d);
      const headers = { 'content-type': 'application/json', 'user-agent': this.userAgent, ...signatureHeaders(endpoint.key, d.eventId, Math.floor(Date.now() / 1000), body) };
      // No redirects: a receiver must not bounce our signed request to another address.
      const res = await fetch(endpoint.url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeoutMs) });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { delivered: true };
      return { delivered: false, error: `HTTP ${res.status}`, retryAt };
    } catch (error) {
      const name = (error as Error)?.name === 'TimeoutError' ? `no answer in ${this.config.timeoutMs} ms` : describe(error);
      return { delivered: false, error: name, retryAt };
    }
  }
}

/** A network error in a few words (never a stack trace): what the admin API shows as last_error. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return (cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'failed').slice(0, 200);
}
