// Options from environment variables, for the standalone server (documented in the README).
import type { AipaygentOptions } from './config.js';
import { envReader } from './env-read.js';
import { webhooksFromEnv } from './observe/webhooks/config.js';
import { paymentsFromEnv } from './payments/env.js';
import { signupFromEnv } from './payments/signup-config.js';

/** Reads AIPAYGENT_* variables; unset variables leave the option at its default. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): AipaygentOptions {
  const reader = envReader(env);
  const { int, flag } = reader;
  const store = env.AIPAYGENT_STORE;
  const rateLimit = int('AIPAYGENT_RATE_LIMIT_REQUESTS');
  return {
    store: store === undefined || store === '' ? undefined : store,
    multiProcess: env.AIPAYGENT_MULTI_PROCESS === '1' || env.AIPAYGENT_MULTI_PROCESS === 'true',
    adminToken: env.AIPAYGENT_ADMIN_TOKEN || undefined,
    metricsToken: env.AIPAYGENT_METRICS_TOKEN || undefined,
    operatorContact: env.AIPAYGENT_OPERATOR_CONTACT || undefined,
    startWhenStoreDown: flag('AIPAYGENT_START_WHEN_STORE_DOWN'),
    openTelemetry: flag('AIPAYGENT_OPENTELEMETRY'),
    // 1 / 0, or a path to move the endpoint to ("/agents/mcp").
    mcp: env.AIPAYGENT_MCP?.startsWith('/') ? { path: env.AIPAYGENT_MCP } : flag('AIPAYGENT_MCP'),
    storeTimeoutMs: int('AIPAYGENT_STORE_TIMEOUT_MS'),
    storePrefix: env.AIPAYGENT_STORE_PREFIX || undefined,
    replicaAck: replicaAckFromEnv(env.AIPAYGENT_REPLICA_ACK),
    // The Claude proxy is served only with an Anthropic key; its other options keep their defaults.
    claude: env.ANTHROPIC_API_KEY ? { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL || undefined } : undefined,
    limits: {
      maxBodyBytes: int('AIPAYGENT_MAX_BODY_BYTES'),
      maxValueBytes: int('AIPAYGENT_MAX_VALUE_BYTES'),
      bodyTimeoutMs: int('AIPAYGENT_BODY_TIMEOUT_MS'),
      maxBodyBytesInFlight: int('AIPAYGENT_MAX_BODY_BYTES_IN_FLIGHT'),
    },
    memory: {
      historyVersions: int('AIPAYGENT_HISTORY_VERSIONS'),
      refreshOnRead: env.AIPAYGENT_REFRESH_ON_READ ? env.AIPAYGENT_REFRESH_ON_READ === '1' || env.AIPAYGENT_REFRESH_ON_READ === 'true' : undefined,
      maxImportBytes: int('AIPAYGENT_MAX_IMPORT_BYTES'),
    },
    freeCallsPerDay: int('AIPAYGENT_FREE_CALLS_PER_DAY'),
    keys: { rotationGraceSeconds: int('AIPAYGENT_KEY_ROTATION_GRACE_SECONDS') },
    metering: env.AIPAYGENT_METERING === '0' || env.AIPAYGENT_METERING === 'false' ? false : undefined,
    pricing: pricingFromEnv(env.AIPAYGENT_PRICING),
    rateLimit: rateLimit === undefined ? undefined : { requests: rateLimit, windowSeconds: int('AIPAYGENT_RATE_LIMIT_WINDOW_SECONDS') },
    payments: paymentsFromEnv(env),
    signup: signupFromEnv(env),
    usage: usageFromEnv(int('AIPAYGENT_USAGE_RETENTION_DAYS')),
    ...webhooksFromEnv(reader),
    spendCaps: jsonObject('AIPAYGENT_SPEND_CAPS', env.AIPAYGENT_SPEND_CAPS, '{"keyDailyMicroUsd":1000000}') as AipaygentOptions['spendCaps'],
  };
}

/** AIPAYGENT_USAGE_RETENTION_DAYS: days usage counters are kept; 0 turns usage counting off. */
const usageFromEnv = (days: number | undefined): AipaygentOptions['usage'] => (days === undefined ? undefined : days === 0 ? false : { retentionDays: days });

/** AIPAYGENT_REPLICA_ACK: credits (the default on a Cluster), all (every write), or none (never wait for a replica). */
function replicaAckFromEnv(raw: string | undefined): AipaygentOptions['replicaAck'] {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'none') return { replicas: 0 };
  if (raw === 'credits' || raw === 'all') return { writes: raw };
  throw new TypeError(`AIPAYGENT_REPLICA_ACK must be credits, all or none (got "${raw}")`);
}

/** AIPAYGENT_PRICING: JSON of micro-USD per endpoint, e.g. {"/memory/store":200}; parseOptions checks the values. */
const pricingFromEnv = (raw: string | undefined): AipaygentOptions['pricing'] => jsonObject('AIPAYGENT_PRICING', raw, '{"/memory/store":200}') as AipaygentOptions['pricing'];

/** A variable holding a JSON object (parseOptions checks its fields); undefined when unset. */
function jsonObject(name: string, raw: string | undefined, example: string): Record<string, unknown> | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new TypeError(`${name} must be a JSON object such as ${example} (got "${raw}")`);
}
