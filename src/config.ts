// Public options, parsed once into an internal config: one error lists every fatal problem.
import { parseClaudeOptions, type ClaudeConfig } from './claude/options.js';
import { parseMcp, type McpConfig } from './mcp/options.js';
import { toLogger, type Logger } from './observe/logger.js';
import { parseWebhooks, type WebhooksConfig } from './observe/webhooks/config.js';
import { parsePayments, paymentSecrets, type PaymentsConfig } from './payments/config.js';
import { parseSignup, type SignupConfig } from './payments/signup-config.js';
import { createRedactor, redactingLogger, urlSecrets, type Redactor } from './redact.js';
import { parseSearchOptions, type SearchConfig } from './search/options.js';
import type { StoreOption } from './storage/open.js';
import { parseReplicaAck, type ReplicaAck } from './storage/replica-ack.js';
import { DEFAULT_PRICING, type PricedPath } from './meter/pricing.js';
import { parseSpendCaps, type CapLimits } from './meter/spend-caps.js';
import { parseUsage, type UsageConfig } from './meter/usage.js';

export { DEFAULT_PRICING, type PricedPath };

export type { AipaygentOptions } from './options.js';
import type { AipaygentOptions } from './options.js';

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
  webhooks: WebhooksConfig | undefined;
  /** The balance.low threshold of accounts without their own. */
  balanceLowMicroUsd: number | undefined;
  spendCaps: CapLimits;
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
    webhooks: parseWebhooks(options.webhooks, options.allowInsecureWebhooks, options.webhookDelivery, options.balanceLowThresholdMicroUsd, problems),
    balanceLowMicroUsd: options.balanceLowThresholdMicroUsd,
    spendCaps: parseSpendCaps(options.spendCaps, problems),
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
  // Webhook signing secrets, and credentials a webhook URL's query might carry.
  for (const e of c.webhooks?.endpoints ?? []) out.push(`whsec_${e.key.toString('base64')}`, e.key.toString('base64'), ...urlSecrets(e.url.href));
  return out;
}
