// Webhook configuration: what createAipaygent refuses (a TypeError listing the problems, or a StartupError at `ready`),
// the environment reader of the standalone server, the SSRF address rules, and webhook secrets kept out of logs.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { inspect } from 'node:util';
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { createAipaygent } from '../../src/create.js';
import type { AipaygentOptions } from '../../src/config.js';
import { optionsFromEnv } from '../../src/env.js';
import { isInternalAddress, literalAddressProblem } from '../../src/observe/webhooks/address.js';
import type { WebhookOptions } from '../../src/observe/webhooks/config.js';
import { StartupError } from '../../src/optional.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { ADMIN_TOKEN, call, startMount } from '../support/mounts.js';
import { newSecret } from '../support/webhook-receiver.js';

const SECRET = newSecret();
/** An endpoint; `more` may break it on purpose (the options are checked at run time, as plain JavaScript would pass them). */
const hook = (url: string, more: Partial<{ events: unknown; secret: unknown }> = {}) => ({ url, events: ['*'], secret: SECRET, ...more }) as WebhookOptions;

/** The problems createAipaygent lists for `options` (it must throw a TypeError). */
function refused(options: AipaygentOptions): string {
  let error: unknown;
  try {
    createAipaygent(options);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TypeError);
  return (error as TypeError).message;
}

/** True once a service made of `options` is built (and closed again: its start must not outlive the test). */
function accepted(options: AipaygentOptions): boolean {
  // Quiet: its start looks the webhook hosts up, and example.com names do not resolve offline (a warning).
  void createAipaygent({ logger: { warn() {}, error() {} }, ...options }).close();
  return true;
}

/** `ready`'s rejection for `options` (closed after). */
async function startupRefusal(options: AipaygentOptions): Promise<unknown> {
  const ai = createAipaygent(options);
  const error = await ai.ready.then(() => undefined, (e: unknown) => e);
  await ai.close();
  return error;
}

describe('webhook options refused by createAipaygent', () => {
  it('http:// only with allowInsecureWebhooks', () => {
    expect(refused({ webhooks: [hook('http://hooks.example.com/x')] })).toMatch(/webhooks\[0\]\.url must be https:\/\/.*allowInsecureWebhooks/);
    expect(accepted({ webhooks: [hook('http://hooks.example.com/x')], allowInsecureWebhooks: true })).toBe(true);
    expect(refused({ webhooks: [hook('ftp://hooks.example.com/x')], allowInsecureWebhooks: true })).toMatch(/must be https/);
  });

  it('loopback, private, link-local and metadata addresses, and loopback names, each listed', () => {
    const urls = [
      'https://127.0.0.1/x', 'https://localhost/x', 'https://10.0.0.1/x', 'https://[::1]/x', 'https://169.254.169.254/latest/meta-data',
      'https://192.168.1.1/x', 'https://172.16.0.1/x', 'https://[fd00::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://2130706433/x',
      'https://0.0.0.0/x', 'https://api.localhost/x', 'https://localhost./x', 'https://LOCALHOST/x',
    ];
    const message = refused({ webhooks: urls.map((u) => hook(u)) });
    urls.forEach((_, i) => expect(message).toMatch(new RegExp(`webhooks\\[${i}\\]\\.url: .*(loopback|private|internal)`)));
    // Allowed on purpose (a receiver on the same host, tests).
    expect(accepted({ webhooks: urls.slice(0, 5).map((u) => hook(u)), allowInsecureWebhooks: true })).toBe(true);
  });

  it('secrets, events, duplicate urls, credentials in the url', () => {
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    const message = refused({
      webhooks: [
        hook('https://a.example.com/', { secret: 'not-a-secret' }),
        hook('https://b.example.com/', { secret: short }),
        hook('https://c.example.com/', { secret: undefined }),
        hook('https://d.example.com/', { events: ['credits.stolen'] }),
        hook('https://e.example.com/', { events: [] }),
        hook('https://f.example.com/'),
        hook('https://f.example.com/', { events: ['key.created'] }),
        hook('https://user:pw@g.example.com/'),
        hook('not a url'),
      ],
    });
    for (const i of [0, 1, 2]) expect(message).toContain(`webhooks[${i}].secret must be "whsec_" followed by base64 of 24 to 64 random bytes`);
    expect(message).toContain('webhooks[3].events: unknown event "credits.stolen"');
    expect(message).toContain('webhooks[4].events must list event types or "*"');
    expect(message).toContain('the same url is listed twice');
    expect(message).toContain('webhooks[7].url must not hold credentials');
    expect(message).toContain('webhooks[8].url must be an absolute URL');
    // No secret of any endpoint is quoted back.
    expect(message).not.toContain(SECRET);
  });

  it('delivery settings out of range', () => {
    const message = refused({ webhooks: [hook('https://a.example.com/')], webhookDelivery: { maxAttempts: 0, firstRetryMs: 1.5, timeoutMs: 10 } });
    expect(message).toMatch(/webhookDelivery\.maxAttempts must be an integer between 1 and 100/);
    expect(message).toMatch(/webhookDelivery\.firstRetryMs must be an integer/);
    expect(message).toMatch(/webhookDelivery\.timeoutMs must be an integer between 100/);
  });

  it('a host name that resolves to a loopback address is refused at ready (StartupError)', async (t) => {
    const name = await loopbackName();
    // Needs a name other than "localhost" that resolves to loopback here (/etc/hosts, the machine's own name); none: nothing to show.
    if (!name) return t.skip();
    const error = await startupRefusal({ webhooks: [hook(`https://${name}/hooks`)] });
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(new RegExp(`webhook https://${name.replace(/\./g, '\\.')}: ${name.replace(/\./g, '\\.')} resolves to .*loopback, private or internal.*allowInsecureWebhooks`));
    expect(await startupRefusal({ webhooks: [hook(`https://${name}/hooks`)], allowInsecureWebhooks: true })).toBeUndefined();
  });

  it('webhooks or spend caps with a store that does not write the outbox: refused at ready', async () => {
    const inner = new MemoryStore();
    const noOutbox = new Proxy(inner, {
      get: (target, prop, receiver) => (prop === 'info' ? { ...target.info, outbox: undefined } : prop === 'outbox' ? undefined : Reflect.get(target, prop, receiver)),
    }) as Store;
    for (const options of [{ webhooks: [hook('https://hooks.example.com/')] }, { spendCaps: { keyDailyMicroUsd: 1000 } }]) {
      const error = await startupRefusal({ store: noOutbox, ...options });
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toMatch(/(webhooks|spendCaps) need a store that writes them in its money operations/);
    }
    // Without either, the same store starts; a key's or account's own cap is then refused (400), never silently ignored.
    expect(await startupRefusal({ store: noOutbox })).toBeUndefined();
    const m = await startMount('core', { parsed: false, prefix: '', options: { store: noOutbox } });
    try {
      const capped = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: { daily_spend_cap_micro_usd: 100 } });
      expect(capped.status).toBe(400);
      expect(capped.body.error.message).toMatch(/spend caps are not enforced by this server's store/);
      const plain = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
      expect(plain.status).toBe(201);
      const settings = await call(`${m.url}/admin/accounts/${plain.body.account_id}/settings`, { key: ADMIN_TOKEN, method: 'PATCH', body: { monthly_spend_cap_micro_usd: 5 } });
      expect(settings.status).toBe(400);
    } finally {
      await m.close();
    }
  });
});

describe('webhooks from the environment (the standalone server)', () => {
  const env = (vars: Record<string, string>) => optionsFromEnv(vars as NodeJS.ProcessEnv);

  it('AIPAYGENT_WEBHOOKS must be a JSON array', () => {
    expect(() => env({ AIPAYGENT_WEBHOOKS: 'https://hooks.example.com' })).toThrow(/AIPAYGENT_WEBHOOKS must be a JSON array such as/);
    expect(() => env({ AIPAYGENT_WEBHOOKS: JSON.stringify(hook('https://hooks.example.com')) })).toThrow(/AIPAYGENT_WEBHOOKS must be a JSON array of/);
    expect(() => env({ AIPAYGENT_WEBHOOKS_ALLOW_INSECURE: 'yes' })).toThrow(/AIPAYGENT_WEBHOOKS_ALLOW_INSECURE must be 1 or 0/);
    expect(() => env({ AIPAYGENT_WEBHOOK_FIRST_RETRY_MS: 'soon' })).toThrow(/AIPAYGENT_WEBHOOK_FIRST_RETRY_MS must be an integer/);
  });

  it('reads the endpoints, the insecure flag, the retries, the balance threshold and the spend caps', () => {
    const o = env({
      AIPAYGENT_WEBHOOKS: JSON.stringify([hook('http://127.0.0.1:9/hooks')]), AIPAYGENT_WEBHOOKS_ALLOW_INSECURE: '1',
      AIPAYGENT_WEBHOOK_FIRST_RETRY_MS: '250', AIPAYGENT_WEBHOOK_MAX_ATTEMPTS: '3', AIPAYGENT_WEBHOOK_TIMEOUT_MS: '2000',
      AIPAYGENT_BALANCE_LOW_MICRO_USD: '5000', AIPAYGENT_SPEND_CAPS: '{"keyDailyMicroUsd":1000}',
    });
    expect(o).toMatchObject({
      webhooks: [hook('http://127.0.0.1:9/hooks')], allowInsecureWebhooks: true, webhookDelivery: { firstRetryMs: 250, maxAttempts: 3, timeoutMs: 2000 },
      balanceLowThresholdMicroUsd: 5000, spendCaps: { keyDailyMicroUsd: 1000 },
    });
    // What the server builds from them is valid; unset retries keep their defaults.
    expect(accepted(o)).toBe(true);
    expect(accepted(env({ AIPAYGENT_WEBHOOKS: JSON.stringify([hook('https://hooks.example.com/')]) }))).toBe(true);
    expect(() => createAipaygent(env({ AIPAYGENT_WEBHOOKS: JSON.stringify([hook('https://hooks.example.com/')]), AIPAYGENT_WEBHOOK_MAX_ATTEMPTS: '0' })))
      .toThrow(/webhookDelivery\.maxAttempts must be an integer between 1 and 100/);
    // Without the flag, the loopback receiver is refused.
    expect(() => createAipaygent(env({ AIPAYGENT_WEBHOOKS: JSON.stringify([hook('http://127.0.0.1:9/hooks')]) }))).toThrow(/must be https/);
  });
});

describe('isInternalAddress', () => {
  it('judges an IPv4-mapped IPv6 address as its IPv4 address, in either notation', () => {
    for (const a of ['::ffff:127.0.0.1', '::FFFF:127.0.0.1', '::ffff:7f00:1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:192.168.0.1']) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['::ffff:8.8.8.8', '::ffff:808:808', '::ffff:93.184.216.34']) expect(isInternalAddress(a), a).toBe(false);
  });

  it('internal: loopback, private, link-local, CGNAT, unspecified, multicast, NAT64 of them; public: the rest', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.31.255.255', '192.168.5.5', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', '::1', 'fd12::1', 'fe80::1', 'ff02::1', '64:ff9b::7f00:1', 'not an address']) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888']) {
      expect(isInternalAddress(a), a).toBe(false);
    }
  });

  it('literal hosts as URL parsing leaves them (brackets, a root dot, any case)', () => {
    for (const h of ['[::1]', '[::ffff:7f00:1]', 'localhost', 'localhost.', 'a.localhost', 'a.localhost.', '127.0.0.1']) expect(literalAddressProblem(h), h).toBeDefined();
    for (const h of ['hooks.example.com', '8.8.8.8', '[2606:4700::1111]', 'localhost.example.com']) expect(literalAddressProblem(h), h).toBeUndefined();
  });
});

describe('webhook secrets in logs', () => {
  it('a log line quoting a webhook secret (here a store error) has it scrubbed, whole and base64 alone', async () => {
    const lines: string[] = [];
    const capture = (message: string, detail?: unknown) => void lines.push(`${message} ${inspect(detail, { depth: 5 })}`);
    const inner = new KeyvStore(new Keyv({ throwOnErrors: true }));
    // A driver error quoting the secret (as a misconfigured store URL or a dumped config might).
    const leaky = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'get' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          if (String(args[1]).startsWith('m:')) throw new Error(`driver failed with config ${SECRET} (key ${SECRET.slice(6)})`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    const m = await startMount('core', {
      parsed: false, prefix: '',
      options: { store: leaky, webhooks: [hook('https://hooks.example.com/')], logger: { warn: capture, error: capture }, freeCallsPerDay: 5 },
    });
    try {
      const key = (await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} })).body.api_key;
      const r = await call(`${m.url}/memory/retrieve?user_id=u&key=k`, { key });
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(r.text).not.toContain(SECRET.slice(6, 30));
    } finally {
      await m.close();
    }
    const logged = lines.join('\n');
    expect(logged).toContain('driver failed with config [REDACTED]');
    expect(logged).not.toContain(SECRET.slice(6, 30));
    expect(logged).not.toContain(SECRET.slice(20));
  });
});

/** A name other than "localhost" that resolves to loopback only: from /etc/hosts or the machine's own name. */
async function loopbackName(): Promise<string | undefined> {
  let hosts = '';
  try {
    hosts = readFileSync('/etc/hosts', 'utf8');
  } catch {
    // no hosts file: only the machine's name is tried
  }
  const names = new Set<string>(['localhost.localdomain', 'ip6-localhost', hostname()]);
  for (const line of hosts.split('\n')) {
    const [address, ...more] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address && (address.startsWith('127.') || address === '::1')) for (const n of more) names.add(n);
  }
  for (const name of names) {
    if (!name || name === 'localhost' || name.endsWith('.localhost') || !/^[a-z0-9.-]+$/i.test(name) || name.endsWith('.')) continue;
    const answers = await lookup(name, { all: true }).catch(() => []);
    if (answers.length > 0 && answers.every((a) => isInternalAddress(a.address))) return name.toLowerCase();
  }
  return undefined;
}
