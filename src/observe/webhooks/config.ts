// Webhook options: endpoints (url, events, secret), checked at startup; the standalone server reads them from AIPAYGENT_WEBHOOKS.
import { createHash } from 'node:crypto';
import type { EnvReader } from '../../env-read.js';
import { literalAddressProblem } from './address.js';

/** Every event a webhook can subscribe to ("*": all of them). */
export const WEBHOOK_EVENTS = [
  'credits.purchased', 'credits.granted', 'credits.refunded', 'balance.low', 'spend_cap.reached', 'key.created', 'key.revoked',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** One endpoint, signed per the Standard Webhooks specification. */
export interface WebhookOptions {
  /** Where events are POSTed: https, and not a loopback or private address unless `allowInsecureWebhooks`. */
  url: string;
  /** Event types it receives; "*" means all. */
  events: Array<WebhookEvent | '*'>;
  /** The signing secret, "whsec_" and base64 of 24 to 64 random bytes (as Standard Webhooks libraries make them). */
  secret: string;
}

/** How deliveries are retried (the defaults suit most receivers). */
export interface WebhookDeliveryOptions {
  /** Tries per delivery before it is marked failed (an operator can retry it). @default 8 */
  maxAttempts?: number;
  /** Wait before the second try, doubled for each later one (with ±20% jitter), at most 1 hour. @default 5000 */
  firstRetryMs?: number;
  /** A receiver that has not answered in this long is a failed try. @default 10000 */
  timeoutMs?: number;
}

export interface WebhookEndpoint {
  url: URL;
  /** Stable name of the endpoint in the outbox (a hash of its URL): deliveries survive a reordered list. */
  name: string;
  events: ReadonlySet<string>;
  /** The decoded secret (HMAC key). */
  key: Buffer;
}

export interface WebhooksConfig {
  endpoints: WebhookEndpoint[];
  allowInsecure: boolean;
  /** Global balance.low threshold in micro-USD (an account's own setting wins); undefined: only accounts that set one. */
  balanceLowMicroUsd: number | undefined;
  maxAttempts: number;
  firstRetryMs: number;
  timeoutMs: number;
}

const endpointName = (url: string): string => `ep_${createHash('sha256').update(url).digest('base64url').slice(0, 12)}`;

/** Validates the options (problems are collected, as parseOptions does); undefined when there are no webhooks. */
export function parseWebhooks(
  list: WebhookOptions[] | undefined, allowInsecure: boolean | undefined, delivery: WebhookDeliveryOptions | undefined,
  balanceLowMicroUsd: number | undefined, problems: string[],
): WebhooksConfig | undefined {
  if (balanceLowMicroUsd !== undefined && !(Number.isSafeInteger(balanceLowMicroUsd) && balanceLowMicroUsd > 0)) {
    problems.push(`balanceLowThresholdMicroUsd must be a positive integer (got ${String(balanceLowMicroUsd)})`);
  }
  if (list === undefined || list.length === 0) return undefined;
  if (!Array.isArray(list)) {
    problems.push('webhooks must be an array of { url, events, secret }');
    return undefined;
  }
  const insecure = allowInsecure === true;
  const endpoints: WebhookEndpoint[] = [];
  list.forEach((w, i) => {
    const at = `webhooks[${i}]`;
    let url: URL | undefined;
    try {
      url = new URL(w?.url);
    } catch {
      problems.push(`${at}.url must be an absolute URL (got ${JSON.stringify(w?.url)})`);
    }
    if (url) {
      if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:')) {
        problems.push(`${at}.url must be https:// (plain http:// only with allowInsecureWebhooks / AIPAYGENT_WEBHOOKS_ALLOW_INSECURE=1)`);
      }
      const literal = insecure ? undefined : literalAddressProblem(url.hostname);
      if (literal) problems.push(`${at}.url: ${literal} (allowed only with allowInsecureWebhooks)`);
      if (url.username || url.password) problems.push(`${at}.url must not hold credentials (sign with the secret instead)`);
    }
    const events = Array.isArray(w?.events) ? w.events : [];
    if (events.length === 0) problems.push(`${at}.events must list event types or "*" (${WEBHOOK_EVENTS.join(', ')})`);
    for (const e of events) if (e !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(e)) problems.push(`${at}.events: unknown event "${String(e)}" (known: ${WEBHOOK_EVENTS.join(', ')}, or "*")`);
    const key = typeof w?.secret === 'string' && /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(w.secret) ? Buffer.from(w.secret.slice(6), 'base64') : undefined;
    if (!key || key.length < 24 || key.length > 64) problems.push(`${at}.secret must be "whsec_" followed by base64 of 24 to 64 random bytes`);
    if (url && key) {
      const all = events.includes('*');
      endpoints.push({ url, name: endpointName(url.href), events: new Set(all ? WEBHOOK_EVENTS : events), key });
    }
  });
  const names = new Set(endpoints.map((e) => e.name));
  if (names.size !== endpoints.length) problems.push('webhooks: the same url is listed twice (list its events once)');
  const int = (name: string, v: number | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    if (!(Number.isSafeInteger(v) && v >= min && v <= max)) problems.push(`webhookDelivery.${name} must be an integer between ${min} and ${max} (got ${String(v)})`);
    return v;
  };
  return {
    endpoints, allowInsecure: insecure, balanceLowMicroUsd,
    maxAttempts: int('maxAttempts', delivery?.maxAttempts, 8, 1, 100),
    firstRetryMs: int('firstRetryMs', delivery?.firstRetryMs, 5000, 10, 3_600_000),
    timeoutMs: int('timeoutMs', delivery?.timeoutMs, 10_000, 100, 120_000),
  };
}

/**
 * AIPAYGENT_WEBHOOKS (a JSON array of { url, events, secret }), AIPAYGENT_WEBHOOKS_ALLOW_INSECURE, AIPAYGENT_BALANCE_LOW_MICRO_USD,
 * and the retries: AIPAYGENT_WEBHOOK_FIRST_RETRY_MS, AIPAYGENT_WEBHOOK_MAX_ATTEMPTS, AIPAYGENT_WEBHOOK_TIMEOUT_MS.
 */
export function webhooksFromEnv(env: EnvReader): {
  webhooks?: WebhookOptions[]; allowInsecureWebhooks?: boolean; balanceLowThresholdMicroUsd?: number; webhookDelivery?: WebhookDeliveryOptions;
} {
  const raw = env.get('AIPAYGENT_WEBHOOKS');
  let webhooks: WebhookOptions[] | undefined;
  if (raw !== undefined) {
    try {
      webhooks = JSON.parse(raw) as WebhookOptions[];
    } catch {
      throw new TypeError('AIPAYGENT_WEBHOOKS must be a JSON array such as [{"url":"https://…","events":["*"],"secret":"whsec_…"}]');
    }
    if (!Array.isArray(webhooks)) throw new TypeError('AIPAYGENT_WEBHOOKS must be a JSON array of { url, events, secret }');
  }
  const delivery: WebhookDeliveryOptions = {
    firstRetryMs: env.int('AIPAYGENT_WEBHOOK_FIRST_RETRY_MS'), maxAttempts: env.int('AIPAYGENT_WEBHOOK_MAX_ATTEMPTS'), timeoutMs: env.int('AIPAYGENT_WEBHOOK_TIMEOUT_MS'),
  };
  return {
    webhooks, allowInsecureWebhooks: env.flag('AIPAYGENT_WEBHOOKS_ALLOW_INSECURE'), balanceLowThresholdMicroUsd: env.int('AIPAYGENT_BALANCE_LOW_MICRO_USD'),
    // parseWebhooks checks the ranges; unset fields keep their defaults.
    webhookDelivery: delivery,
  };
}
