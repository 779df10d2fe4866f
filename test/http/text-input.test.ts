// Text that no store can keep as given (NUL, lone surrogates) is a precise 400 on every backend and every door, never a 503.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AipaygentError } from '../../src/errors.js';
import { OPERATOR_KEY } from '../support/claude.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, call, describeBackends, startMount, type Mounted } from '../support/mounts.js';

const fake: FakeAnthropic = await startFakeAnthropic();
afterAll(async () => {
  await fake.close();
});

const options = { freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000 } };
const MODEL = 'claude-3-5-sonnet-20241022';
const cursorOf = (after: string) => Buffer.from(JSON.stringify({ after })).toString('base64url');

/** A 400 in the one error shape whose message names the field and the problem. */
function refused(r: { status: number; body: any }, field: string, problem: RegExp): void {
  expect(r.status).toBe(400);
  expect(r.body.status).toBe('error');
  expect(r.body.error.code).toBe('invalid_request');
  expect(r.body.error.message).toContain(field);
  expect(r.body.error.message).toMatch(problem);
}

const NUL = /must not contain the NUL character \(U\+0000\)/;
const SURROGATE = /well-formed Unicode/;

function suite(m: () => Mounted): void {
  let key = '';
  let account = '';
  beforeAll(async () => {
    const r = await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
    key = r.body.api_key;
    account = r.body.account_id;
    const g = await call(`${m().url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: account, amount_micro_usd: 1_000_000, reason: 'test' } });
    expect(g.status).toBe(201);
  });

  it('GET /memory/list: a NUL in prefix is a 400 naming prefix', async () => {
    // (A query string cannot carry a lone surrogate: invalid UTF-8 decodes to U+FFFD.)
    refused(await call(`${m().url}/memory/list?user_id=u&prefix=a%00b`, { key }), 'prefix', NUL);
    const ok = await call(`${m().url}/memory/list?user_id=u&prefix=a`, { key });
    expect(ok.status).toBe(200);
  });

  it('GET /memory/list: a cursor with a NUL, raw or inside the key it carries, is a 400', async () => {
    refused(await call(`${m().url}/memory/list?user_id=u&cursor=%00`, { key }), 'cursor', /./);
    refused(await call(`${m().url}/memory/list?user_id=u&cursor=${cursorOf('a\u0000')}`, { key }), 'cursor', /./);
    refused(await call(`${m().url}/memory/list?user_id=u&cursor=${cursorOf('\ud800')}`, { key }), 'cursor', /./);
    expect((await call(`${m().url}/memory/list?user_id=u&cursor=${cursorOf('a')}`, { key })).status).toBe(200);
  });

  it('user_id and key keep refusing control characters (NUL included), in bodies and query strings', async () => {
    refused(await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: 'a\u0000', data: 1 } }), 'key', /control characters/);
    refused(await call(`${m().url}/memory/retrieve?user_id=u%00&key=k`, { key }), 'user_id', /control characters/);
  });

  it('POST /admin/credits: a NUL or a lone surrogate in reason or reference is a 400, and nothing is granted', async () => {
    const grant = (extra: Record<string, unknown>) =>
      call(`${m().url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: account, amount_micro_usd: 5, reason: 'ok', ...extra } });
    refused(await grant({ reason: 'bonus\u0000' }), 'reason', NUL);
    refused(await grant({ reference: 'ref\u0000' }), 'reference', NUL);
    refused(await grant({ reason: 'bad \ud800 half' }), 'reason', SURROGATE);
    refused(await grant({ reference: '\udc00' }), 'reference', SURROGATE);
    const ledger = await call(`${m().url}/credits/ledger`, { key });
    expect(ledger.body.entries.filter((e: { kind: string }) => e.kind === 'grant')).toHaveLength(1);
  });

  it('POST /admin/keys: a NUL in label is a 400', async () => {
    refused(await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: { label: 'x\u0000' } }), 'label', NUL);
  });

  it('memory-aware Claude calls: a NUL in memory.prefix (body or header) is a 400, before any upstream call or hold', async () => {
    fake.reset();
    const body = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };
    const ours = await call(`${m().url}/claude/message`, { key, body: { ...body, memory: { user_id: 'u', prefix: 'p\u0000' } } });
    refused(ours, 'memory.prefix', NUL);
    refused(await call(`${m().url}/claude/message`, { key, body: { ...body, memory: { user_id: 'u', prefix: '\ud800' } } }), 'memory.prefix', SURROGATE);
    const theirs = await call(`${m().url}/v1/messages`, { key, body, headers: { 'x-aipaygent-memory-user': 'u', 'x-aipaygent-memory-prefix': 'p%00' } });
    expect(theirs.status).toBe(400);
    expect(theirs.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/memory\.prefix must not contain the NUL character/) } });
    expect(fake.requests).toHaveLength(0);
    const ledger = await call(`${m().url}/credits/ledger`, { key });
    expect(ledger.body.entries.filter((e: { kind: string }) => e.kind === 'hold')).toEqual([]);
  });

  it('the in-process API refuses the same text with the same 400 (ai.api.ledger.grant)', async () => {
    const e = await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 5, reason: 'in\u0000process' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AipaygentError);
    expect((e as AipaygentError).code).toBe('invalid_request');
    expect((e as AipaygentError).message).toMatch(/reason.*NUL/);
    const r = await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 5, reason: 'ok', reference: 'x\ud800' }).catch((x: unknown) => x);
    expect((r as AipaygentError).code).toBe('invalid_request');
  });
}

describe('text refused as input [in-memory store, core mount]', () => {
  let mounted: Mounted | undefined;
  beforeAll(async () => {
    mounted = await startMount('core', { parsed: false, prefix: '', options });
  });
  afterAll(async () => {
    await mounted?.close();
  });
  suite(() => mounted!);
});

await describeBackends('text refused as input', suite, options);
