// createAipaygent(): wires config, store, services and routes into `handle`, a typed `api` and `close`.
import { createHash } from 'node:crypto';
import { MemoryClaude } from './claude/memory-claude.js';
import { createClaudeProxy } from './claude/proxy.js';
import { parseOptions, type AipaygentOptions } from './config.js';
import { createHandler } from './http/core.js';
import { Idempotency } from './http/idempotency.js';
import { checkPricing, createMetering } from './http/metering.js';
import { x402PayPerCall } from './http/x402-pay-per-call.js';
import { adminRoutes } from './http/routes/admin.js';
import { claudeRoutes } from './http/routes/claude.js';
import { creditsRoutes } from './http/routes/credits.js';
import { discoveryRoutes } from './http/routes/discovery.js';
import { docsRoutes } from './http/routes/docs.js';
import { memoryRoutes } from './http/routes/memory.js';
import { buyInstructions, paymentRoutes, paymentsDisabledRoutes } from './http/routes/payments.js';
import type { Route } from './http/route.js';
import { Router } from './http/router.js';
import type { CoreRequest, CoreResponse } from './http/types.js';
import { KeyService } from './keys/key-service.js';
import { LedgerService } from './ledger/ledger-service.js';
import { MemoryService } from './memory/memory-service.js';
import { createPayments } from './payments/payments.js';
import { Meter } from './meter/meter.js';
import { RateLimiter } from './meter/rate-limit.js';
import type { Store } from './storage/contract.js';
import { deferredStore } from './storage/deferred.js';
import { openStore } from './storage/open.js';
import { VoidQueue } from './storage/void-queue.js';

/** The mounted service: the adapters call `handle`; the host may call `api` in process. */
export interface Aipaygent {
  /** Answers a request of ours, or resolves undefined ("not my route": call the host's next()). */
  handle(req: CoreRequest): Promise<CoreResponse | undefined>;
  /** Typed in-process API, for admin tasks and tests. */
  api: {
    keys: Pick<KeyService, 'create' | 'revoke' | 'authenticate'>;
    memory: MemoryService;
    ledger: Pick<LedgerService, 'grant' | 'balance' | 'entries'>;
  };
  /** The route table this instance serves (read-only): what /openapi.json and /discover describe. */
  routes: readonly Route[];
  /** Resolves once the store is open and migrated; `handle` waits for it by itself. */
  ready: Promise<void>;
  /**
   * Graceful shutdown: new requests get a 503 at once; calls in flight finish (charge, work and refund
   * included; a streamed answer until it is read to the end or its client leaves) for up to `timeoutMs`
   * (default 10 s; Infinity waits as long as it takes); voids of charges the store did not answer get up
   * to `timeoutMs` more to land; then what aipaygent opened is closed (never the host's own Keyv client).
   * Close the HTTP server first, then this.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Creates the service. Mount it with `aipaygent/express` or `aipaygent/koa`.
 * @example
 * const ai = createAipaygent({ adminToken: process.env.AIPAYGENT_ADMIN_TOKEN });
 * app.use(express.json(), aipaygentExpress(ai));
 */
export function createAipaygent(options: AipaygentOptions = {}): Aipaygent {
  const config = parseOptions(options);
  let store: Store | undefined;
  const ready = openStore(config.store, { timeoutMs: config.storeTimeoutMs, prefix: config.storePrefix }).then(async (opened) => {
    if (config.multiProcess && !opened.info.multiProcess) {
      await opened.close();
      throw new TypeError(
        `aipaygent: multiProcess is true but the ${opened.info.backend} store is atomic only inside one process; ` +
          'use a Redis, Postgres or SQLite Keyv adapter (or URL) so several processes stay exact',
      );
    }
    await opened.init();
    store = opened;
  });
  // Surface the failure through `ready` and `handle`, never as an unhandled rejection.
  ready.catch(() => {});

  // Services see a late-bound store so that routes and `api` exist synchronously.
  const lazyStore = deferredStore(ready, () => store);
  const keys = new KeyService(lazyStore);
  const memory = new MemoryService(lazyStore, { maxValueBytes: config.limits.maxValueBytes, ...config.memory }, config.logger);
  const payments = config.payments && createPayments(lazyStore, config.payments);
  // Every 402 then carries the chain, token and receiver in `payment.buy`.
  // Charges and holds whose answer was lost are voided by id; those the store cannot take yet wait here.
  const voids = new VoidQueue(lazyStore, config.logger);
  const meter = new Meter(lazyStore, config.freeCallsPerDay, voids, payments && (() => buyInstructions(payments.config)));
  const ledger = new LedgerService(lazyStore, meter);

  const router = new Router();
  for (const r of payments ? paymentRoutes(payments) : paymentsDisabledRoutes()) router.add(r);
  for (const r of memoryRoutes({ memory, maxKeyBytes: config.limits.maxKeyBytes, maxTtlDays: config.memory.maxTtlDays, maxDepth: config.limits.maxDepth })) {
    // `metering: false` makes the fixed-price routes free where they are declared, so the pipeline,
    // /discover and OpenAPI all see the same thing.
    router.add(config.metering || r.metered !== true ? r : { ...r, metered: false });
  }
  for (const r of creditsRoutes({ ledger })) router.add(r);
  let proxy: ReturnType<typeof createClaudeProxy> | undefined;
  if (config.claude) {
    proxy = createClaudeProxy(config.claude, lazyStore, voids, config.logger);
    const memoryClaude = new MemoryClaude({ proxy, memory, store: lazyStore, meter, config: config.claude, maxKeyBytes: config.limits.maxKeyBytes, logger: config.logger });
    for (const r of claudeRoutes({ proxy, config: config.claude, meter, logger: config.logger, memory: memoryClaude })) router.add(r);
  }
  if (config.adminToken !== undefined) for (const r of adminRoutes({ keys, ledger })) router.add(r);
  for (const r of [...discoveryRoutes({ routes: router.routes, config }), ...docsRoutes()]) router.add(r);
  checkPricing(router.routes, config.pricing);

  const { handle, drain } = createHandler({
    router,
    adminTokenHash: config.adminToken === undefined ? undefined : createHash('sha256').update(config.adminToken).digest(),
    limits: config.limits,
    logger: config.logger,
    metering: createMetering({
      keys,
      meter,
      limiter: config.rateLimit && new RateLimiter(lazyStore, config.rateLimit),
      idempotency: new Idempotency(lazyStore),
      pricing: config.pricing,
      logger: config.logger,
      payPerCall: payments?.x402 && x402PayPerCall(payments.x402),
    }),
  });

  return {
    handle,
    api: { keys, memory, ledger },
    routes: router.routes,
    ready,
    async close(options = {}) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      if (!(timeoutMs >= 0)) throw new TypeError(`aipaygent: close({ timeoutMs }) must be a number of ms >= 0 (got ${timeoutMs})`);
      if (!(await drain(timeoutMs))) config.logger.warn(`aipaygent: closing with calls still in flight after ${timeoutMs} ms; they will fail with 503`);
      proxy?.close();
      await ready.catch(() => {});
      // Voids still waiting for the store get up to the same time again to land; what is left is logged.
      // A store that never opened took no charge: nothing to void.
      if (store) await voids.close(timeoutMs);
      else voids.abandon();
      await store?.close();
    },
  };
}
