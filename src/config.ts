// Public options, parsed once into an internal config: one error lists every fatal problem.
import { parseClaudeOptions, type ClaudeConfig, type ClaudeOptions } from './claude/options.js';
import { parseMcp, type McpConfig, type McpOptions } from './mcp/options.js';
import { toLogger, type Logger } from './observe/logger.js';
import { parsePayments, paymentSecrets, type PaymentsConfig, type PaymentsOptions } from './payments/config.js';
import { parseSignup, type SignupConfig, type SignupOptions } from './payments/signup-config.js';
import { createRedactor, redactingLogger, urlSecrets, type Redactor } from './redact.js';
import { parseSearchOptions, type SearchConfig, type SearchOptions } from './search/options.js';
import type { StoreOption } from './storage/open.js';
import { parseReplicaAck, type ReplicaAck, type ReplicaAckOptions } from './storage/replica-ack.js';
import { DEFAULT_PRICING, type PricedPath } from './meter/pricing.js';
import { parseUsage, type UsageConfig, type UsageOptions } from './meter/usage.js';

export { DEFAULT_PRICING, type PricedPath };

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
}

/** The validated, fully defaulted configuration the core runs on. */
export interface Config {
  store: StoreOption;
  multiProcess: boolean;
  adminToken: string | undefined;
  keys: { rotationGraceSeconds: number };
  metricsToken: string | undefined;
  operatorContact: string | undefined;
  storeTimeoutMs: number;
  startWhenStoreDown: boolean;
  openTelemetry: boolean;
  storePrefix: string;
  replicaAck: ReplicaAck;
  limits: { maxBodyBytes: number; maxValueBytes: number; maxDepth: number; maxKeyBytes: number; bodyTimeoutMs: number; maxBodyBytesInFlight: number };
  memory: {
    defaultTtlDays: number | null; maxTtlDays: number; compressAboveBytes: number;
    historyVersions: number; refreshOnRead: boolean; maxImportBytes: number;
  };
  /** The host's logger behind `redactor`. */
  logger: Logger;
  /** Scrubs the secrets of this config from upstream text and log lines: the one place both the Claude and the chain paths use. */
  redactor: Redactor;
  claude: ClaudeConfig | undefined;
  search: SearchConfig | undefined;
  payments: PaymentsConfig | undefined;
  signup: SignupConfig | undefined;
  freeCallsPerDay: number;
  metering: boolean;
  pricing: Readonly<Record<string, number>>;
  rateLimit: { requests: number; windowSeconds: number } | undefined;
  mcp: McpConfig | undefined;
  usage: UsageConfig | undefined;
}

const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** Validates options; throws one TypeError listing every problem found. */
export function parseOptions(options: AipaygentOptions = {}): Config {
  const problems: string[] = [];
  const num = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (!isInt(value, min, max)) problems.push(`${name} must be an integer between ${min} and ${max} (got ${String(value)})`);
    return value;
  };
  const limits = options.limits ?? {};
  const memory = options.memory ?? {};
  const payments = parsePayments(options.payments, problems);
  const config: Config = {
    store: options.store,
    multiProcess: options.multiProcess ?? false,
    adminToken: options.adminToken,
    keys: { rotationGraceSeconds: num('keys.rotationGraceSeconds', options.keys?.rotationGraceSeconds, 86_400, 0, 31_536_000) },
    metricsToken: options.metricsToken,
    operatorContact: options.operatorContact,
    startWhenStoreDown: options.startWhenStoreDown ?? false,
    openTelemetry: options.openTelemetry ?? false,
    storeTimeoutMs: num('storeTimeoutMs', options.storeTimeoutMs, 2000, 10, 600_000),
    storePrefix: options.storePrefix ?? 'apg:',
    replicaAck: parseReplicaAck(options.replicaAck, problems),
    limits: {
      maxBodyBytes: num('limits.maxBodyBytes', limits.maxBodyBytes, 1024 * 1024, 1024, 1024 ** 3),
      maxValueBytes: num('limits.maxValueBytes', limits.maxValueBytes, 256 * 1024, 1, 1024 ** 3),
      maxDepth: num('limits.maxDepth', limits.maxDepth, 64, 1, 1000),
      maxKeyBytes: num('limits.maxKeyBytes', limits.maxKeyBytes, 256, 1, 4096),
      bodyTimeoutMs: num('limits.bodyTimeoutMs', limits.bodyTimeoutMs, 30_000, 100, 3_600_000),
      maxBodyBytesInFlight: num('limits.maxBodyBytesInFlight', limits.maxBodyBytesInFlight, 64 * 1024 ** 2, 1024, 64 * 1024 ** 3),
    },
    memory: {
      defaultTtlDays: memory.defaultTtlDays === undefined ? 365 : memory.defaultTtlDays,
      maxTtlDays: memory.maxTtlDays ?? 3650,
      compressAboveBytes: num('memory.compressAboveBytes', memory.compressAboveBytes, 1024, 0, 1024 ** 3),
      historyVersions: num('memory.historyVersions', memory.historyVersions, 10, 0, 100),
      refreshOnRead: memory.refreshOnRead ?? false,
      maxImportBytes: num('memory.maxImportBytes', memory.maxImportBytes, 64 * 1024 ** 2, 1024, 16 * 1024 ** 3),
    },
    logger: toLogger(options.logger),
    redactor: createRedactor([]),
    claude: parseClaudeOptions(options.claude, problems),
    search: parseSearchOptions(options.search, problems),
    payments,
    signup: parseSignup(options.signup, payments, problems),
    freeCallsPerDay: num('freeCallsPerDay', options.freeCallsPerDay, 10, 0, 1_000_000),
    metering: options.metering ?? true,
    pricing: { ...DEFAULT_PRICING },
    rateLimit: undefined,
    mcp: parseMcp(options.mcp, problems),
    usage: parseUsage(options.usage, problems),
  };
  for (const [path, price] of Object.entries(options.pricing ?? {})) {
    if (!(path in DEFAULT_PRICING)) problems.push(`pricing: unknown endpoint "${path}" (priced endpoints: ${Object.keys(DEFAULT_PRICING).join(', ')})`);
    else if (price !== undefined) (config.pricing as Record<string, number>)[path] = num(`pricing["${path}"]`, price, 0, 1, 1_000_000_000);
  }
  if (options.rateLimit != null) {
    const { requests, windowSeconds } = options.rateLimit;
    if (!isInt(requests, 1, 1_000_000_000)) problems.push(`rateLimit.requests must be an integer between 1 and 1000000000 (got ${String(requests)})`);
    config.rateLimit = { requests, windowSeconds: num('rateLimit.windowSeconds', windowSeconds, 60, 1, 86_400) };
  }
  for (const name of ['adminToken', 'metricsToken'] as const) {
    const token = options[name];
    if (token !== undefined && (typeof token !== 'string' || token.length < 16)) problems.push(`${name} must be a string of at least 16 characters`);
  }
  if (options.operatorContact !== undefined && (typeof options.operatorContact !== 'string' || !/^[^\u0000-\u001f]{1,200}$/.test(options.operatorContact))) {
    problems.push('operatorContact must be a string of 1 to 200 characters (an e-mail address or URL)');
  }
  for (const name of ['startWhenStoreDown', 'openTelemetry'] as const) if (typeof config[name] !== 'boolean') problems.push(`${name} must be true or false`);
  if (typeof config.storePrefix !== 'string' || !/^[A-Za-z0-9_:.-]{0,64}$/.test(config.storePrefix)) problems.push('storePrefix must be up to 64 characters of [A-Za-z0-9_:.-]');
  const { maxTtlDays, defaultTtlDays } = config.memory;
  if (typeof maxTtlDays !== 'number' || !(maxTtlDays > 0) || maxTtlDays > 36_500) problems.push('memory.maxTtlDays must be a number in (0, 36500]');
  if (defaultTtlDays !== null && (typeof defaultTtlDays !== 'number' || !(defaultTtlDays > 0) || defaultTtlDays > maxTtlDays)) problems.push('memory.defaultTtlDays must be null or a number in (0, maxTtlDays]');
  if (typeof config.memory.refreshOnRead !== 'boolean') problems.push('memory.refreshOnRead must be true or false');
  if (config.limits.maxValueBytes > config.limits.maxBodyBytes) problems.push('limits.maxValueBytes must not exceed limits.maxBodyBytes');
  if (config.limits.maxBodyBytesInFlight < config.limits.maxBodyBytes) problems.push('limits.maxBodyBytesInFlight must be at least limits.maxBodyBytes (else a largest body never fits)');
  if (problems.length) throw new TypeError(`aipaygent: invalid options:\n- ${problems.join('\n- ')}`);
  config.redactor = createRedactor(secretsOf(config));
  config.logger = redactingLogger(config.logger, config.redactor);
  return config;
}

/** Every secret the options hold: what must never reach a client or a log line, in whatever form an upstream quotes it. */
function secretsOf(c: Config): Array<string | undefined> {
  const out: Array<string | undefined> = [c.adminToken, c.metricsToken, c.claude?.apiKey, ...urlSecrets(c.claude?.baseURL)];
  // A store URL, or the connection options of a host's Keyv adapter.
  const adapterOpts = (c.store as { store?: { opts?: { uri?: unknown; url?: unknown } } } | undefined)?.store?.opts;
  for (const url of [c.store, adapterOpts?.uri, adapterOpts?.url]) if (typeof url === 'string') out.push(...urlSecrets(url));
  if (c.payments) out.push(...paymentSecrets(c.payments));
  return out;
}
