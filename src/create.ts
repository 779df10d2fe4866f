// createAipaygent(): wires config, store, services and routes into `handle`, a typed `api` and `close`.
import { createHash } from 'node:crypto';
import { MemoryClaude } from './claude/memory-claude.js';
import { createClaudeProxy } from './claude/proxy.js';
import type { Upstream } from './claude/upstream.js';
import { parseOptions, type AipaygentOptions } from './config.js';
import { featureLines, startFeatures, type Started } from './features.js';
import { BodyBudget } from './http/body.js';
import { createHandler } from './http/core.js';
import { Idempotency } from './http/idempotency.js';
import { checkPricing, createMetering } from './http/metering.js';
import { json } from './http/respond.js';
import { x402PayPerCall } from './http/x402-pay-per-call.js';
import { adminRoutes } from './http/routes/admin.js';
import { adminUsageRoutes } from './http/routes/admin-usage.js';
import { ANTHROPIC_PREFIX, anthropicRoutes } from './http/routes/anthropic.js';
import { claudeRoutes } from './http/routes/claude.js';
import { creditsRoutes } from './http/routes/credits.js';
import { discoveryRoutes, PACKAGE_VERSION } from './http/routes/discovery.js';
import { consoleRoutes } from './http/routes/console.js';
import { docsRoutes } from './http/routes/docs.js';
import { healthRoutes, type Readiness } from './http/routes/health.js';
import { memoryRoutes } from './http/routes/memory.js';
import { offRoutes } from './http/routes/off.js';
import { buyInstructions, paymentRoutes } from './http/routes/payments.js';
import { signupRoutes } from './http/routes/signup.js';
import type { Route } from './http/route.js';
import { Router } from './http/router.js';
import type { CoreRequest, CoreResponse } from './http/types.js';
import { AccountService } from './keys/accounts.js';
import { KeyService } from './keys/key-service.js';
import { late } from './late.js';
import { mcpDoor, mcpRoutes } from './mcp/endpoint.js';
import type { McpEngine } from './mcp/sdk-server.js';
import { buildTools } from './mcp/tools.js';
import { LedgerService } from './ledger/ledger-service.js';
import { MemoryService } from './memory/memory-service.js';
import { Meter } from './meter/meter.js';
import { MoneyRules } from './meter/money-rules.js';
import { Webhooks } from './observe/webhooks/webhooks.js';
import { adminSettingsRoutes } from './http/routes/admin-settings.js';
import { RateLimiter } from './meter/rate-limit.js';
import { UsageRecorder } from './meter/usage.js';
import { UsageService } from './meter/usage-service.js';
import { Events } from './observe/events.js';
import { EmbedQueue } from './search/embed-queue.js';
import { MemoryVectors } from './memory/memory-vectors.js';
import { createMetrics } from './observe/metrics.js';
import { observedStore } from './observe/observed-store.js';
import { StartupError } from './optional.js';
import type { PurchaseService } from './payments/purchases.js';
import type { SignupService } from './payments/signup.js';
import type { WalletService } from './payments/wallets.js';
import type { X402Service } from './payments/x402-service.js';
import type { Store } from './storage/contract.js';
import { deferredStore } from './storage/deferred.js';
import { describeStore, openStore } from './storage/open.js';
import { initAtStart } from './storage/start.js';
import { bounded } from './storage/timeout.js';
import { VoidQueue } from './storage/void-queue.js';
/** The mounted service: the adapters call `handle`; the host may call `api` in process. */
export interface Aipaygent {
  /** Answers a request of ours, or resolves undefined ("not my route": call the host's next()). */
  handle(req: CoreRequest): Promise<CoreResponse | undefined>;
  /** Typed in-process API, for admin tasks and tests. */
  api: {
    keys: Pick<KeyService, 'create' | 'rotate' | 'revoke' | 'authenticate' | 'list'>;
    memory: MemoryService;
    ledger: Pick<LedgerService, 'grant' | 'grantToAccount' | 'balance' | 'entries'>;
    /** Usage per account and hour or day (what GET /admin/usage answers). */
    usage: UsageService;
  };
  /** The route table this instance serves (read-only): what /openapi.json and /discover describe. */
  routes: readonly Route[];
  /**
   * Resolves once the optional packages of the configured features are loaded and the store is open and
   * migrated; rejects with a StartupError naming what is missing or unreachable. `handle` waits for it.
   */
  ready: Promise<void>;
  /** One line per feature, "name: on|off (why)", as the standalone server prints them at startup. */
  features(): string[];
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
 * Creates the service. Mount it with `aipaygent/express` or `aipaygent/koa`. Options are checked at
 * once (a TypeError lists every problem); what needs I/O (optional packages, the store) is checked by
 * `ready`, which rejects with a StartupError naming the fault.
 * @example
 * const ai = createAipaygent({ adminToken: process.env.AIPAYGENT_ADMIN_TOKEN });
 * await ai.ready; // fails fast: a missing package or an unreachable store
 * app.use(express.json(), aipaygentExpress(ai));
 */
export function createAipaygent(options: AipaygentOptions = {}): Aipaygent {
  const config = parseOptions(options);
  const { logger } = config;
  const events = new Events();
  const metrics = config.adminToken !== undefined || config.metricsToken !== undefined ? createMetrics(events) : undefined;
  let store: Store | undefined;
  let started: Started | undefined;
  const upstream = late<Upstream>('the Claude upstream');
  const purchases = late<PurchaseService>('the purchase service');
  const wallets = late<WalletService>('the wallet service');
  const x402 = late<X402Service>('the x402 service');
  const signup = late<SignupService>('the wallet sign-up service');
  // The MCP engine (the SDK's server) and its tools, made once `ready` loaded the SDK and every route is in the table.
  let mcpEngine: McpEngine | undefined;
  const mcpTools = new Set<string>();
  let mcpCatalogue: Array<{ name: string; title: string; route: Route }> = [];

  async function start(): Promise<void> {
    const opened = await openStore(config.store, { timeoutMs: config.storeTimeoutMs, prefix: config.storePrefix, replicaAck: config.replicaAck });
    // Whatever fails before the store is in service closes it: a failed start leaves no connection open.
    try {
      if (config.multiProcess && !opened.info.multiProcess) {
        throw new StartupError(
          `aipaygent: multiProcess is true but the ${opened.info.backend} store is atomic only inside one process; ` +
            'use a Redis, Postgres or SQLite Keyv adapter (or URL) so several processes stay exact',
        );
      }
      started = await startFeatures(config, lazyStore, events, PACKAGE_VERSION, usageRecorder, notifier);
      if (started.upstream) upstream.bind(started.upstream);
      if (started.payments) {
        purchases.bind(started.payments.purchases);
        wallets.bind(started.payments.wallets);
        if (started.payments.x402) x402.bind(started.payments.x402);
        const p = started.payments;
        if (started.signup && config.signup) signup.bind(new started.signup.SignupService(lazyStore, keys, p.wallets, p.chain, p.x402, config.signup));
      }
      // Every route is in the table by now: the tools are those of the routes served.
      if (started.mcp) {
        const tools = buildTools(findRoute);
        for (const t of tools) mcpTools.add(t.name);
        mcpCatalogue = tools.map((t) => ({ name: t.name, title: t.listing.title as string, route: t.route }));
        mcpEngine = await started.mcp.createEngine(mcpDoor(tools, (r, req, q) => handler.invoke(r, req, q), PACKAGE_VERSION));
      }
      const initTimeoutMs = Math.max(10_000, 5 * config.storeTimeoutMs);
      const live = await initAtStart(opened, { initTimeoutMs, startWhenStoreDown: config.startWhenStoreDown, describe: describeStore(config.store), logger });
      await webhooks.check(live.info);
      store = metrics ? observedStore(live, events) : live;
    } catch (error) {
      await opened.close().catch(() => {});
      throw error;
    }
  }
  const ready = start();
  // Surfaced by `ready` itself, and at boot by the adapters and the standalone server; never an unhandled rejection here.
  ready.catch(() => {});

  // Services see a late-bound store so that routes and `api` exist synchronously.
  const lazyStore = deferredStore(ready, () => store);
  // Events written with the money and key operations that cause them, and the spend caps those operations carry.
  const webhooks = new Webhooks(config, lazyStore, events);
  const { notifier } = webhooks;
  const rules = new MoneyRules(lazyStore, config.spendCaps, notifier, true);
  ready.then(() => webhooks.start(PACKAGE_VERSION), () => {});
  const keys = new KeyService(lazyStore, notifier);
  const searchConfig = config.search;
  // Vectors are embedded off every request's path, by this queue (only with an embedder).
  const embeds = searchConfig?.embedder && new EmbedQueue(searchConfig.embedder, events, logger);
  const vectors = embeds && new MemoryVectors(lazyStore, searchConfig!.embedder!, embeds);
  const memoryLimits = { maxValueBytes: config.limits.maxValueBytes, maxDepth: config.limits.maxDepth, ...config.memory };
  const memory = new MemoryService(lazyStore, memoryLimits, logger, searchConfig && { config: searchConfig, vectors });
  const paymentsConfig = config.payments;
  // Charges and holds whose answer was lost are voided by id; those the store cannot take yet wait here.
  const voids = new VoidQueue(lazyStore, logger);
  // Usage counters ride along with the money operations they count (and nothing is counted with `usage: false`).
  const usageRecorder = config.usage && new UsageRecorder(lazyStore, config.usage);
  const usage = new UsageService(lazyStore, usageRecorder !== undefined);
  // Every 402 names the ways to pay this server has: USDC purchases (with the chain details), x402, the operator.
  const meter = new Meter(lazyStore, config.freeCallsPerDay, voids, { buy: paymentsConfig && (() => buyInstructions(paymentsConfig)), contact: config.operatorContact }, usageRecorder, rules, notifier);
  const ledger = new LedgerService(lazyStore, meter, (accountId, now) => keys.hasKeys(accountId, now), usageRecorder, notifier);

  const router = new Router();
  if (paymentsConfig) {
    for (const r of paymentRoutes({ config: paymentsConfig, purchases: purchases.target, wallets: wallets.target, x402: paymentsConfig.x402 && x402.target })) router.add(r);
  }
  if (config.signup) for (const r of signupRoutes({ config: config.signup, signup: signup.target, x402: paymentsConfig?.x402 && x402.target })) router.add(r);
  for (const r of memoryRoutes({ memory, maxKeyBytes: config.limits.maxKeyBytes, maxTtlDays: config.memory.maxTtlDays, maxDepth: config.limits.maxDepth, bodyTimeoutMs: config.limits.bodyTimeoutMs, maxSearchLimit: searchConfig?.maxLimit })) {
    // `metering: false` makes the fixed-price routes free where they are declared, so the pipeline,
    // /discover and OpenAPI all see the same thing.
    router.add(config.metering || r.metered !== true ? r : { ...r, metered: false });
  }
  for (const r of creditsRoutes({ ledger })) router.add(r);
  if (config.claude) {
    const proxy = createClaudeProxy(config.claude, lazyStore, voids, logger, config.redactor, upstream.target, events, usageRecorder, rules);
    const memoryClaude = new MemoryClaude({ proxy, memory, store: lazyStore, meter, config: config.claude, maxKeyBytes: config.limits.maxKeyBytes, logger });
    for (const r of claudeRoutes({ proxy, config: config.claude, meter, logger, memory: memoryClaude })) router.add(r);
    const anthropic = anthropicRoutes({ proxy, config: config.claude, store: lazyStore, logger });
    for (const r of anthropic.routes) router.add(r);
    router.addPrefix(ANTHROPIC_PREFIX, anthropic.fallback);
  }
  if (config.adminToken !== undefined) {
    const admin = { keys, ledger, accounts: new AccountService(lazyStore), rotationGraceSeconds: config.keys.rotationGraceSeconds, usage: config.usage ? usage : undefined, rules };
    const settings = adminSettingsRoutes({
      store: lazyStore, rules, hasAccount: (accountId, now) => keys.hasKeys(accountId, now), defaults: { caps: config.spendCaps, balanceLow: config.balanceLowMicroUsd },
    });
    for (const r of [...adminRoutes(admin), ...settings, ...webhooks.routes(), ...consoleRoutes()]) router.add(r);
  }
  if (config.adminToken !== undefined && config.usage) for (const r of adminUsageRoutes({ usage, keys })) router.add(r);
  const findRoute = (method: string, path: string) => {
    const m = router.match(method, path);
    return m?.kind === 'route' ? m.route : undefined;
  };
  if (config.mcp) {
    if (router.match('POST', config.mcp.path)) throw new TypeError(`aipaygent: invalid options:\n- mcp.path ${config.mcp.path} is a route of aipaygent already`);
    for (const r of mcpRoutes({ config: config.mcp, engine: () => mcpEngine!, keys, hasTool: (name) => mcpTools.has(name) })) router.add(r);
  }
  for (const r of healthRoutes({ readiness, metrics: metrics && (() => metrics.render()) })) router.add(r);
  for (const r of [...discoveryRoutes({ routes: router.routes, config, mcpTools: () => mcpCatalogue }), ...docsRoutes(), ...offRoutes(config)]) router.add(r);
  checkPricing(router.routes, config.pricing);

  const sha = (token: string | undefined) => (token === undefined ? undefined : createHash('sha256').update(token).digest());
  const handler = createHandler({
    router,
    adminTokenHash: sha(config.adminToken),
    metricsTokenHash: sha(config.metricsToken),
    limits: config.limits,
    logger,
    events,
    bodyBudget: new BodyBudget(config.limits.maxBodyBytesInFlight),
    keyIsLive: async (apiKey, now) => (await keys.authenticate(apiKey, now)) !== undefined,
    metering: createMetering({
      keys,
      meter,
      limiter: config.rateLimit && new RateLimiter(lazyStore, config.rateLimit),
      idempotency: new Idempotency(lazyStore),
      pricing: config.pricing,
      logger,
      payPerCall: paymentsConfig?.x402 && x402PayPerCall(x402.target),
      bodyTimeoutMs: config.limits.bodyTimeoutMs,
    }),
  });

  /** /readyz: started, not draining, and a store probe (one counter read) within the store's timeout. */
  async function readiness(): Promise<Readiness> {
    if (handler.draining) return { ready: false, reason: 'shutting down' };
    if (!store) return { ready: false, reason: 'starting' };
    const t0 = performance.now();
    try {
      // Bounded here too: a Store passed in as an object has no guard of ours.
      await bounded(lazyStore.counter(HEALTH_ACCOUNT, 'readyz', Date.now()), config.storeTimeoutMs);
      return { ready: true, backend: store.info.backend, latencyMs: performance.now() - t0 };
    } catch {
      return { ready: false, reason: 'the store did not answer in time' };
    }
  }

  let isReady = false;
  ready.then(() => void (isReady = true), () => {});
  /** Before `ready` resolved, calls of ours wait for it (and fail as STARTUP_FAILED if it rejects). */
  async function whenReady(req: CoreRequest): Promise<CoreResponse | undefined> {
    if (!router.match(req.method, req.path)) return undefined;
    try {
      await ready;
    } catch {
      return STARTUP_FAILED;
    }
    return handler.handle(req);
  }

  const service: Aipaygent = {
    // A stable function (a host may wrap it); once started, one flag read on top of the pipeline.
    handle: (req) => (isReady ? handler.handle(req) : whenReady(req)),
    api: { keys, memory, ledger, usage },
    routes: router.routes,
    ready,
    features: () => featureLines(config, store?.info),
    async close(options = {}) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      if (!(timeoutMs >= 0)) throw new TypeError(`aipaygent: close({ timeoutMs }) must be a number of ms >= 0 (got ${timeoutMs})`);
      if (!(await handler.drain(timeoutMs))) logger.warn(`aipaygent: closing with calls still in flight after ${timeoutMs} ms; they will fail with 503`);
      started?.upstream?.close();
      await webhooks.close();
      embeds?.close();
      metrics?.close();
      await ready.catch(() => {});
      // Voids still waiting for the store get up to the same time again to land; what is left is logged.
      // A store that never opened took no charge: nothing to void.
      if (store) await voids.close(timeoutMs);
      else voids.abandon();
      await store?.close();
    },
  };
  return service;
}

/** The account the readiness probe reads a counter of: not an account id (acct_…), so never anyone's. */
const HEALTH_ACCOUNT = '_health';

/** A call of ours after `ready` rejected: the reason was reported at startup; the client learns nothing internal. */
const STARTUP_FAILED = json(500, { status: 'error', error: { code: 'internal', message: 'This service did not start; its operator has the reason in the server log.' } });
