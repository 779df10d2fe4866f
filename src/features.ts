// Optional features at startup: their packages loaded on demand (a missing one fails `ready`), and one line per feature saying on/off and why.
import type { Upstream } from './claude/upstream.js';
import type { Config } from './config.js';
import { TURN_ON } from './http/routes/off.js';
import { formatUsd } from './ledger/money.js';
import type { UsageRecorder } from './meter/usage.js';
import type { Events } from './observe/events.js';
import type { Notifier } from './observe/webhooks/notifier.js';
import { loadFeature } from './optional.js';
import type { Payments } from './payments/payments.js';
import type { Store, StoreInfo } from './storage/contract.js';
import { describeStore } from './storage/open.js';

/** What the optional packages made: the Claude upstream client and the payment services, when configured. */
export interface Started {
  upstream: Upstream | undefined;
  payments: Payments | undefined;
  /** The MCP engine's module (it imports the SDK). */
  mcp: typeof import('./mcp/sdk-server.js') | undefined;
  /** The wallet sign-up module (it imports viem/siwe), when `signup` is on. */
  signup: typeof import('./payments/signup.js') | undefined;
}

/** Loads what the configuration turns on, all at once; rejects with the StartupError of the first missing package. */
export async function startFeatures(config: Config, store: Store, events: Events, version: string, usage?: UsageRecorder, notifier?: Notifier): Promise<Started> {
  const [upstream, payments, , mcp, signup] = await Promise.all([
    config.claude && loadFeature('claude', () => import('./claude/upstream.js')).then(({ Upstream }) => new Upstream(config.claude!, config.logger, config.redactor)),
    config.payments && loadFeature('payments', () => import('./payments/payments.js')).then(({ createPayments }) => createPayments(store, config.payments!, config.redactor, usage, notifier)),
    config.openTelemetry &&
      Promise.all([loadFeature('openTelemetry', () => import('@opentelemetry/api')), import('./observe/otel.js')]).then(([api, otel]) =>
        otel.subscribeSpans(api, events, version),
      ),
    config.mcp && loadFeature('mcp', () => import('./mcp/sdk-server.js')),
    config.signup && loadFeature('payments', () => import('./payments/signup.js')),
  ]);
  return { upstream: upstream || undefined, payments: payments || undefined, mcp: mcp || undefined, signup: signup || undefined };
}

/** One line per feature, "name: on|off (why)", for the standalone server, the CLI and doctor. */
export function featureLines(config: Config, store?: StoreInfo): string[] {
  const price = Object.values(config.pricing)[0] ?? 0;
  const metering = config.metering
    ? `${config.freeCallsPerDay} free calls a day per account, then from ${formatUsd(price)} USD a call`
    : 'metering off: memory calls are free';
  const where = describeStore(config.store);
  const shared = store ? (store.multiProcess ? ', shared by processes' : ', this process only') : '';
  const x402 = config.payments?.x402;
  return [
    `memory: on (${metering})`,
    `store: ${where} (${store?.backend ?? 'not open'}${shared}${where === 'memory' ? ', lost on restart' : ''})`,
    config.search
      ? `search: on (${config.search.embedder ? `lexical, semantic and hybrid; embeddings by ${config.search.embedder.model}` : 'lexical; semantic with search.embed'})`
      : `search: off (${TURN_ON.search})`,
    config.claude ? `claude: on (upstream ${config.redactor.text(config.claude.baseURL)})` : `claude: off (set ${TURN_ON.claude})`,
    config.payments ? `payments: on (USDC on chain ${config.payments.chainId} to ${config.payments.receiver})` : `payments: off (set ${TURN_ON.payments})`,
    x402 ? `x402: on (settled by ${x402.facilitatorUrl ? 'a facilitator' : 'our relayer'})` : `x402: off (set ${TURN_ON.x402})`,
    config.signup
      ? `signup: on (wallets sign up on ${config.signup.domain}${config.signup.feeMicroUsd ? `, fee ${formatUsd(config.signup.feeMicroUsd)} USD by x402` : ''})`
      : `signup: off (set ${TURN_ON.signup})`,
    config.adminToken !== undefined ? 'admin: on (/admin/*, the console at /console, admin token)' : `admin: off (set ${TURN_ON.admin})`,
    config.adminToken !== undefined || config.metricsToken !== undefined ? 'metrics: on (GET /metrics)' : `metrics: off (set ${TURN_ON.metrics})`,
    config.mcp ? `mcp: on (POST ${config.mcp.path}, tools metered as their routes)` : `mcp: off (${TURN_ON.mcp})`,
    config.webhooks
      ? `webhooks: on (${config.webhooks.endpoints.length} endpoint${config.webhooks.endpoints.length === 1 ? '' : 's'}${config.webhooks.allowInsecure ? ', insecure URLs allowed' : ''})`
      : 'webhooks: off (set webhooks, AIPAYGENT_WEBHOOKS)',
    config.openTelemetry ? 'opentelemetry: on (spans through @opentelemetry/api)' : 'opentelemetry: off (set openTelemetry: true, AIPAYGENT_OPENTELEMETRY=1)',
  ];
}
