// Webhooks as createAipaygent() runs them: the startup checks, the delivery worker, and the admin routes of the outbox.
import type { Config } from '../../config.js';
import { adminWebhookRoutes } from '../../http/routes/admin-webhooks.js';
import type { Route } from '../../http/route.js';
import { StartupError } from '../../optional.js';
import type { Store, StoreInfo } from '../../storage/contract.js';
import type { Events } from '../events.js';
import { resolvedAddressProblem } from './address.js';
import { Notifier } from './notifier.js';
import { WebhookWorker } from './worker.js';

export class Webhooks {
  readonly notifier: Notifier;
  private worker: WebhookWorker | undefined;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly events?: Events,
  ) {
    this.notifier = new Notifier(config.webhooks);
  }

  /**
   * At startup, once the store is open: webhooks and spend caps need a store that honours them (StoreInfo.outbox), and
   * each webhook host must resolve to public addresses only (unless allowed): a misconfiguration stops the start.
   */
  async check(info: StoreInfo): Promise<void> {
    const caps = Object.keys(this.config.spendCaps).length > 0;
    if ((this.config.webhooks || caps) && info.outbox !== true) {
      throw new StartupError(`aipaygent: ${this.config.webhooks ? 'webhooks need' : 'spendCaps need'} a store that writes them in its money operations (memory, Redis, Postgres, SQLite); this ${info.backend} store does not`);
    }
    const wh = this.config.webhooks;
    if (!wh || wh.allowInsecure) return;
    for (const e of wh.endpoints) {
      let problem: string | undefined;
      try {
        problem = await resolvedAddressProblem(e.url.hostname);
      } catch (error) {
        // Not resolvable now (DNS down): checked again before every delivery.
        this.config.logger.warn(`aipaygent: webhook host ${e.url.hostname} did not resolve at startup; it is checked again before each delivery`, { error });
      }
      if (problem) throw new StartupError(`aipaygent: webhook ${e.url.origin}: ${problem}; set allowInsecureWebhooks (AIPAYGENT_WEBHOOKS_ALLOW_INSECURE=1) to allow it`);
    }
  }

  /** Starts delivering (when webhooks are configured). */
  start(version: string): void {
    if (!this.config.webhooks) return;
    this.worker = new WebhookWorker(this.store, this.config.webhooks, this.config.logger, this.config.storeTimeoutMs, `aipaygent/${version}`, this.events);
    this.worker.start();
  }

  /** GET /admin/webhooks/deliveries and the retry route, when webhooks are configured. */
  routes(): Route[] {
    const config = this.config.webhooks;
    return config ? adminWebhookRoutes({ store: this.store, config, nudge: () => this.worker?.nudge() }) : [];
  }

  /** Stops the worker; deliveries under way finish and are recorded. */
  async close(): Promise<void> {
    await this.worker?.stop();
  }
}
