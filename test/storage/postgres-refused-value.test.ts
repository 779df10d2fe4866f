// Postgres refusing a value as invalid data (SQLSTATE class 22, a NUL in text) is a 400 for the request, never a 503.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreRefusedValueError, StoreUnavailableError } from '../../src/errors.js';
import { errorResponse } from '../../src/http/respond.js';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { postgresUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';

const url = await postgresUrlOrSkip();
const bytes = new TextEncoder().encode('{}');

describe.skipIf(!url)('postgres store: values it cannot hold', () => {
  const prefix = `apg_refused_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let store: Store;
  beforeAll(async () => {
    store = await openStore(url!, { timeoutMs: 10_000, prefix });
    await store.init();
  });
  afterAll(async () => {
    await dropPrefix(url!, prefix, store);
  });

  const refused = async (p: Promise<unknown>) => {
    const e = await p.then(() => 'resolved', (x: unknown) => x);
    expect(e).toBeInstanceOf(StoreRefusedValueError);
    expect(e).not.toBeInstanceOf(StoreUnavailableError);
    expect((e as StoreRefusedValueError).status).toBe(400);
  };

  it('a NUL in a parameter (record key, prefix, cursor, claim key) is StoreRefusedValueError, a 400', async () => {
    const now = Date.now();
    await refused(store.put('acct_a', 'c', 'k\u0000', { value: bytes, size: 2, tag: '', expiresAt: null }, now));
    await refused(store.get('acct_a', 'c', 'k\u0000', now));
    await refused(store.list('acct_a', 'c', { prefix: 'p\u0000', limit: 10 }, now));
    await refused(store.list('acct_a', 'c', { after: 'a\u0000', limit: 10 }, now));
    await refused(store.claim(null, 'c\u0000', 'v', null, now));
  });

  it('a NUL in a money value (memo, reference, hold id, a bound parameter) is refused, and nothing is written', async () => {
    const now = Date.now();
    await refused(store.post('acct_a', { amount: 5, kind: 'grant', memo: 'bonus\u0000' }, now));
    await refused(store.post('acct_a', { amount: 5, kind: 'grant', reference: 'r\u0000', memo: 'x' }, now));
    await refused(store.hold('acct_a', { holdId: 'h\u0000', amount: 1, expiresAt: now + 60_000 }, now));
    // Nothing was written, and the store keeps working.
    expect(await store.balance('acct_a', now)).toBe(0);
    expect((await store.post('acct_a', { amount: 5, kind: 'grant', memo: 'ok' }, now)).ok).toBe(true);
  });

  it('is answered 400 invalid_request, its cause logged at warn (a door let the value through), never 503', () => {
    const logs: Array<[string, string]> = [];
    const logger = { warn: (m: string) => void logs.push(['warn', m]), error: (m: string) => void logs.push(['error', m]) };
    const res = errorResponse(new StoreRefusedValueError(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })), logger);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body as string).error.code).toBe('invalid_request');
    expect(logs).toEqual([['warn', expect.stringMatching(/^aipaygent: invalid_request: /)]]);
  });
});
