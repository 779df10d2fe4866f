// HTTP: Claude billing fails closed when the store fails (hold refused -> 503, no upstream call; settle retried).
import { Keyv } from 'keyv';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { account, claudeSpend, OPERATOR_KEY, settled } from '../support/claude.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { call, startMount, type Mounted } from '../support/mounts.js';

/** The next `n` calls of each named store method throw as if the backend were down. */
const faults: Record<string, number> = {};
/** The next `n` calls of each named store method run, then throw as if their answer were lost. */
const lost: Record<string, number> = {};
const logs: string[] = [];

function failing(inner: Store): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const name = String(prop);
        if ((faults[name] ?? 0) > 0) {
          faults[name]!--;
          throw new StoreUnavailableError(new Error(`injected fault: ${name}`));
        }
        const out = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if ((lost[name] ?? 0) > 0) {
          lost[name]!--;
          throw new StoreUnavailableError(new Error(`injected fault: the answer of ${name} was lost`));
        }
        return out;
      };
    },
  });
}

let fake: FakeAnthropic;
let m: Mounted;
const inner = new KeyvStore(new Keyv({ throwOnErrors: true }));
beforeAll(async () => {
  fake = await startFakeAnthropic();
  m = await startMount('core', {
    parsed: false, prefix: '',
    options: {
      store: failing(inner), freeCallsPerDay: 0,
      logger: { warn: (s) => void logs.push(s), error: (s) => void logs.push(s) },
      claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0 },
    },
  });
});
afterAll(async () => {
  await m.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  logs.length = 0;
  for (const k of Object.keys(faults)) delete faults[k];
  for (const k of Object.keys(lost)) delete lost[k];
});

const body = { model: 'claude-3-5-sonnet-20241022', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };

describe('Claude billing with a failing store', () => {
  it('answers 503 and never calls Claude when the hold cannot be written', async () => {
    const { key } = await account(m, 1_000_000);
    faults.hold = 2;
    const ours = await call(`${m.url}/claude/message`, { key, body });
    expect(ours.status).toBe(503);
    expect(ours.body.error.code).toBe('store_unavailable');
    const theirs = await call(`${m.url}/v1/messages`, { key, body });
    expect(theirs.status).toBe(503);
    expect(theirs.body).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringMatching(/storage backend is unavailable/) } });
    expect(fake.requests).toEqual([]);
  });

  it('a hold placed whose answer was lost: 503 without calling Claude, and the hold is released by id at once', async () => {
    const { key, account: accountId } = await account(m, 1_000_000);
    lost.hold = 1;
    const r = await call(`${m.url}/claude/message`, { key, body });
    expect(r.status).toBe(503);
    expect(fake.requests).toEqual([]);
    // Not after the hold's 2 h expiry: the void gives the money back as soon as the store answers.
    await expect.poll(() => inner.balance(accountId, Date.now())).toBe(1_000_000);
    const entries = (await inner.ledger(accountId, { limit: 5 })).map((e) => [e.kind, e.reference]);
    expect(entries).toEqual([['release', entries[1]![1]], ['hold', expect.stringMatching(/^hold:clh_/)], ['grant', null]]);
  });

  it('retries a settle that fails briefly, and charges exactly once', async () => {
    const { key } = await account(m, 1_000_000);
    faults.settle = 2;
    const r = await call(`${m.url}/claude/message`, { key, body });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cost-micro-usd')).toBe('180');
    expect((await settled(m, key)).spent).toBe(180);
  });

  it('does not hand out an answer it could not bill (503), and logs it; the hold stays until it expires', async () => {
    const { key, account: accountId } = await account(m, 1_000_000);
    faults.settle = 10;
    const r = await call(`${m.url}/claude/message`, { key, body });
    expect(r.status).toBe(503);
    expect(r.text).not.toContain('Hello from the fake Claude');
    expect(logs.some((l) => l.includes('CLAUDE SETTLE FAILED'))).toBe(true);
    const { entries } = await claudeSpend(m, key);
    expect(entries.map((e) => e.kind)).toEqual(['hold']);
    expect(await inner.balance(accountId, Date.now())).toBe(1_000_000 + entries[0].amount_micro_usd);
    // As after a crash: nobody settles, and the hold gives the money back once it expires (2 h by default).
    expect(await inner.balance(accountId, Date.now() + 2 * 3_600_000 + 1000)).toBe(1_000_000);
  });
});
