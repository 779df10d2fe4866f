// The public options of createAipaygent(): every field optional, documented for the user's editor.
import type { ClaudeOptions } from './claude/options.js';
import type { McpOptions } from './mcp/options.js';
import type { SpendCapOptions } from './meter/spend-caps.js';
import type { PricedPath } from './meter/pricing.js';
import type { UsageOptions } from './meter/usage.js';
import type { Logger } from './observe/logger.js';
import type { WebhookDeliveryOptions, WebhookOptions } from './observe/webhooks/config.js';
import type { PaymentsOptions } from './payments/config.js';
import type { SignupOptions } from './payments/signup-config.js';
import type { SearchOptions } from './search/options.js';
import type { StoreOption } from './storage/open.js';
import type { ReplicaAckOptions } from './storage/replica-ack.js';

/** Options of `createAipaygent()`. Every field is optional. */
export interface AipaygentOptions {
  /**
   * Where state lives: a `Keyv` instance (Redis, Postgres and SQLite adapters are detected and
   * served natively), a URL (`memory`, `redis://…`, `postgres://…`, `sqlite://file`), or a Store.
   * @default in-memory (one process, lost on restart)
   */
  store?: StoreOption;
  /**
   * Set when several Node processes share the store: refused with a store that is only atomic
   * inside one process (the generic Keyv store).
   * @default false
   */
  multiProcess?: boolean;
  /**
   * Bearer token of the admin routes (`/admin/*`); they are not served at all without one.
   * At least 16 characters.
   * @default undefined (admin routes off)
   */
  adminToken?: string;
  /** API keys: how long a rotated key keeps working, the default of `POST /admin/keys/:key_id/rotate` (0: it stops at once). @default { rotationGraceSeconds: 86400 } */
  keys?: { rotationGraceSeconds?: number };
  /**
   * Bearer token that may read `GET /metrics` (the admin token may too), for a scraper that must not
   * hold the admin token. /metrics is off when neither token is set. At least 16 characters.
   * @default undefined
   */
  metricsToken?: string;
  /**
   * How a client without money reaches the operator (an e-mail address or URL), named in every 402
   * and in /discover: the way to get credits when the server sells none online.
   * @default undefined
   */
  operatorContact?: string;
  /** Every store call fails with 503 `store_unavailable` after this many ms. @default 2000 */
  storeTimeoutMs?: number;
  /**
   * false: `ai.ready` rejects when the store does not answer at startup (the server does not start).
   * true: start anyway, answer 503 `store_unavailable` and retry until the store answers (a warning is logged).
   * @default false
   */
  startWhenStoreDown?: boolean;
  /**
   * true: report a span per call served and per Claude call (GenAI semantic conventions) through
   * `@opentelemetry/api` (install it; the host configures the SDK and exporter).
   * @default false
   */
  openTelemetry?: boolean;
  /** Prefix of every key / table of native stores, so several apps can share one server. @default "apg:" */
  storePrefix?: string;
  /** When a replicated Redis write is acknowledged (see ReplicaAckOptions). @default credits wait for 1 replica on a Cluster */
  replicaAck?: ReplicaAckOptions;
  /** Limits on input. */
  limits?: {
    /** Largest request body in bytes (when the host did not parse it). @default 1048576 */
    maxBodyBytes?: number;
    /** Largest memory `data`, in bytes of its JSON text. @default 262144 */
    maxValueBytes?: number;
    /**
     * Deepest nesting of a JSON body (a memory's `data`, one level inside, nests at most one less).
     * At most 1000: JSON.stringify recurses, and a few thousand levels overflow its stack.
     * @default 64
     */
    maxDepth?: number;
    /** Longest `user_id` and `key`, in UTF-8 bytes. @default 256 */
    maxKeyBytes?: number;
    /**
     * A request body aipaygent reads must arrive within this many ms (an NDJSON import: at most this
     * long between two chunks); else 408 `request_timeout` and the connection is closed. @default 30000
     */
    bodyTimeoutMs?: number;
    /**
     * Bytes of request bodies being read at once, across the calls of this service (a body counts its
     * declared length, or maxBodyBytes when chunked). A body that does not fit gets 503 `server_busy`
     * with Retry-After before it is read. @default 67108864 (64 MiB)
     */
    maxBodyBytesInFlight?: number;
  };
  /** Memory defaults. */
  memory?: {
    /** TTL when a write gives no `ttl_days`; null keeps memories until deleted. @default 365 */
    defaultTtlDays?: number | null;
    /** Largest `ttl_days` accepted. @default 3650 */
    maxTtlDays?: number;
    /** Values above this many bytes are stored gzip-compressed. @default 1024 */
    compressAboveBytes?: number;
    /** Versions kept per key for `GET /memory/history` and `POST /memory/restore` (0: no history, one write per store). @default 10 */
    historyVersions?: number;
    /** Whether a retrieve renews `expires_at` by the memory's own TTL (sliding expiry); `refresh_on_read` overrides it per request. @default false */
    refreshOnRead?: boolean;
    /** Largest NDJSON body of `POST /memory/import`, in bytes (streamed, never held whole). @default 67108864 */
    maxImportBytes?: number;
  };
  /**
   * Where masked faults are reported (never to the client): anything with `warn(message, detail)` and
   * `error(message, detail)` such as `console`, or a pino or bunyan logger, which is called as
   * `(fields, message)` (detected by its `bindings()` / `fields`). Every line is scrubbed of the
   * configured secrets first (admin and metrics tokens, Claude key, relayer key, facilitator headers,
   * credentials in URLs). Nothing else is logged.
   * @default console
   */
  logger?: Logger;
  /**
   * The Claude proxy (`POST /claude/message`, `POST /v1/messages`), billed by tokens. Its routes are
   * not served without it (see ClaudeOptions; `apiKey` is required).
   * @default undefined (Claude routes off)
   */
  claude?: ClaudeOptions;
  /**
   * Memory search (`GET`/`POST /memory/search`): lexical on every store; semantic and hybrid with
   * `search.embed` (see SearchOptions). false: off (no index kept, the route answers 404 naming this option).
   * @default {} (lexical search on)
   */
  search?: SearchOptions | false;
  /**
   * Credit purchases in USDC, verified on-chain (see PaymentsOptions); x402 pay-per-call with `payments.x402`.
   * @default undefined (no purchases: GET /buy-credits says so)
   */
  payments?: PaymentsOptions;
  /** Wallet sign-up for agents: a Sign-In with Ethereum message opens an account linked to the wallet (SignupOptions; needs `payments`). @default undefined (off) */
  signup?: SignupOptions;
  /**
   * Metered calls each account makes free per UTC day, before calls are debited (0: no free tier).
   * @default 10 (as in the article)
   */
  freeCallsPerDay?: number;
  /**
   * false: the fixed-price memory routes are free and uncounted (no quota, no debit, no RateLimit
   * headers, and /discover and OpenAPI say so), for hosts that bill elsewhere. Claude calls stay
   * billed by tokens.
   * @default true
   */
  metering?: boolean;
  /**
   * Price of one metered call past the free ones, in integer micro-USD (1 = $0.000001), per endpoint.
   * The default, $0.0001 a call, is 10,000 calls for $1: an agent making 1,000 paid calls a day
   * spends about $3 a month ("a few dollars monthly", as the article says), and it stays far
   * above what one store round trip costs to serve.
   * @default 100 for each of /memory/store, retrieve, list, delete, append, patch, history, restore, export, import, search
   */
  pricing?: Partial<Record<PricedPath, number>>;
  /**
   * Per-API-key rate limit on every key-authenticated route, in requests per fixed window; answered
   * 429 `rate_limited` with `Retry-After`. Separate from money: lack of money is always a 402.
   * @default undefined (off: no store round trip spent on it)
   */
  rateLimit?: { requests: number; /** @default 60 */ windowSeconds?: number };
  /** The MCP endpoint (tools metered as their routes); false: off. @default on at "/mcp" when `@modelcontextprotocol/sdk` is installed */
  mcp?: boolean | McpOptions;
  /** Usage counters per account and hour for `GET /admin/usage`, kept in the same store operation as the money (see UsageOptions); false: off. @default { retentionDays: 400 } */
  usage?: boolean | UsageOptions;
  /**
   * Webhooks: events (credits.purchased, credits.granted, credits.refunded, balance.low, spend_cap.reached, key.created,
   * key.revoked) POSTed to each endpoint, signed per Standard Webhooks, at least once (written to an outbox in the same
   * store operation as their cause, retried with backoff). URLs must be https and public unless `allowInsecureWebhooks`.
   * @default undefined (none)
   */
  webhooks?: WebhookOptions[];
  /** Allow webhook URLs over plain http and to loopback or private addresses (tests, a receiver on the same host). @default false */
  allowInsecureWebhooks?: boolean;
  /** Retries of webhook deliveries. @default { maxAttempts: 8, firstRetryMs: 5000, timeoutMs: 10000 } */
  webhookDelivery?: WebhookDeliveryOptions;
  /** balance.low fires when a debit takes an account's balance below this (micro-USD; an account's own setting wins). @default undefined (only accounts that set one) */
  balanceLowThresholdMicroUsd?: number;
  /**
   * Default spend caps in micro-USD per key and per account, per UTC day and month, checked inside each charge (Claude holds
   * count). A key's own caps (POST /admin/keys) and an account's (PATCH /admin/accounts/:id/settings) replace them.
   * @default {} (no caps)
   */
  spendCaps?: SpendCapOptions;
}
