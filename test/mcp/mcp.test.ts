// The MCP door on every mount, with the official SDK client: tools, structured results, metering as the HTTP routes, isolation, bad input, auth.
import { afterEach, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { faultyStore, newFaults, type Faults } from '../support/faulty-store.js';
import { mcpClient, rpc, sc } from './support.js';

let faults: Faults = newFaults();
const logged: string[] = [];
const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };
const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function account(m: Mounted, headers: Record<string, string> = {}) {
  const { api_key: key, account_id: accountId } = await m.ai.api.keys.create();
  const client = await mcpClient(m.url, key, headers);
  open.push(client);
  return { key, accountId, client };
}

const TOOLS = ['memory_store', 'memory_retrieve', 'memory_list', 'memory_search', 'memory_append', 'memory_patch', 'memory_delete', 'memory_history', 'credits_balance'];

describeMounts('mcp: the official SDK client', () => {
  faults = newFaults();
  return { store: faultyStore(faults), logger };
}, (m) => {
  it('lists the tools with input and output schemas and descriptions; the server names itself', async () => {
    const { client } = await account(m());
    expect(client.getServerVersion()).toMatchObject({ name: 'aipaygent' });
    expect(client.getInstructions()).toMatch(/X-Aipaygent-User/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(TOOLS));
    for (const t of tools) {
      expect(t.description!.length).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema).toMatchObject({ type: 'object' });
    }
    const retrieve = tools.find((t) => t.name === 'memory_retrieve')!;
    expect(retrieve.inputSchema.properties).toMatchObject({ user_id: { type: 'string' }, key: { type: 'string' }, refresh_on_read: { type: 'boolean' } });
    expect(retrieve.inputSchema.required).toEqual(['key']);
    expect(retrieve.annotations).toMatchObject({ readOnlyHint: true });
  });

  it('/discover lists the endpoint and each tool with the route it runs and its price', async () => {
    const { client } = await account(m());
    const d = (await call(`${m().url}/discover`)).body;
    expect(d.endpoints.find((e: any) => e.path === '/mcp')).toMatchObject({ method: 'POST', auth: 'key' });
    expect(d.mcp).toMatchObject({ endpoint: `${m().prefix}/mcp`, authentication: 'Authorization: Bearer <api key>', default_user_header: 'X-Aipaygent-User' });
    expect(d.mcp.tools.map((t: any) => t.name)).toEqual((await client.listTools()).tools.map((t) => t.name));
    expect(d.mcp.tools.find((t: any) => t.name === 'memory_retrieve')).toMatchObject({ runs: 'GET /memory/retrieve', billing: 'per_call', price_micro_usd: 100 });
    expect(d.mcp.tools.find((t: any) => t.name === 'credits_balance')).toMatchObject({ runs: 'GET /credits/balance', billing: 'free' });
  });

  it('calls each tool: structured results as the HTTP routes answer them, conditional writes by etag', async () => {
    const { key, client } = await account(m());
    const stored = await client.callTool({ name: 'memory_store', arguments: { user_id: 'u', key: 'notes', data: { likes: ['tea'] }, ttl_days: 30 } });
    expect(stored.isError).toBeFalsy();
    expect(sc(stored)).toMatchObject({ status: 'success', message: 'Memory stored successfully', user_id: 'u', key: 'notes', version: 1 });
    expect(JSON.parse((stored.content as any)[0].text)).toEqual(sc(stored));
    const etag = sc(stored).etag as string;

    const got = await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'notes' } });
    const http = await call(`${m().url}/memory/retrieve?user_id=u&key=notes`, { key });
    expect(sc(got)).toEqual(http.body);

    const appended = await client.callTool({ name: 'memory_append', arguments: { user_id: 'u', key: 'notes', path: '/likes', items: ['jazz'], if_match: etag } });
    expect(sc(appended)).toMatchObject({ status: 'success', version: 2, length: 2 });
    // The old etag no longer matches: 412 as a tool error carrying the current version, nothing written.
    const stale = await client.callTool({ name: 'memory_patch', arguments: { user_id: 'u', key: 'notes', patch: { city: 'Oslo' }, if_match: etag } });
    expect(stale.isError).toBe(true);
    expect(sc(stale)).toMatchObject({ status: 'error', error: { code: 'precondition_failed' }, current: { version: 2 } });
    const patched = await client.callTool({ name: 'memory_patch', arguments: { user_id: 'u', key: 'notes', patch: { city: 'Oslo', likes: null } } });
    expect(sc(patched)).toMatchObject({ status: 'success', version: 3 });
    expect((await m().ai.api.memory.get((await m().ai.api.keys.authenticate(key, Date.now()))!.accountId, 'u', 'notes', Date.now()))!.json).toBe('{"city":"Oslo"}');

    const listed = await client.callTool({ name: 'memory_list', arguments: { user_id: 'u', limit: 10 } });
    expect(sc(listed)).toMatchObject({ status: 'success', keys: [{ key: 'notes', version: 3 }], next_cursor: null });
    const history = await client.callTool({ name: 'memory_history', arguments: { user_id: 'u', key: 'notes', include_data: true } });
    expect(sc(history).versions.map((v: any) => v.version)).toEqual([3, 2, 1]);
    expect(sc(history).versions[0].data).toEqual({ city: 'Oslo' });
    const deleted = await client.callTool({ name: 'memory_delete', arguments: { user_id: 'u', key: 'notes' } });
    expect(sc(deleted)).toMatchObject({ status: 'success', deleted: true });
    const gone = await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'notes' } });
    expect([gone.isError, sc(gone).error.code]).toEqual([true, 'not_found']);
    const balance = await client.callTool({ name: 'credits_balance', arguments: {} });
    expect(sc(balance)).toMatchObject({ status: 'success', balance_micro_usd: 0, free_calls_remaining: 0 });
  });

  it('the X-Aipaygent-User header is the default user_id; an explicit user_id wins', async () => {
    const { client } = await account(m(), { 'x-aipaygent-user': 'alice' });
    await client.callTool({ name: 'memory_store', arguments: { key: 'k', data: 1 } });
    await client.callTool({ name: 'memory_store', arguments: { user_id: 'bob', key: 'k', data: 2 } });
    expect(sc(await client.callTool({ name: 'memory_retrieve', arguments: { key: 'k' } }))).toMatchObject({ user_id: 'alice', data: 1 });
    expect(sc(await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'bob', key: 'k' } }))).toMatchObject({ data: 2 });
    // if_none_match "*": create only when absent (412 here, nothing written).
    const exists = await client.callTool({ name: 'memory_store', arguments: { key: 'k', data: 'other', if_none_match: '*' } });
    expect([exists.isError, sc(exists).error.code]).toEqual([true, 'precondition_failed']);
    expect(sc(await client.callTool({ name: 'memory_retrieve', arguments: { key: 'k' } })).data).toBe(1);
  });

  it("memories are resources: the default user's keys listed, any memory:// read, billed as list and retrieve", async () => {
    const { accountId, client } = await account(m(), { 'x-aipaygent-user': 'me' });
    expect(client.getServerCapabilities()?.resources).toBeDefined();
    expect((await client.listResourceTemplates()).resourceTemplates).toEqual([expect.objectContaining({ uriTemplate: 'memory://{user_id}/{key}' })]);
    await client.callTool({ name: 'memory_store', arguments: { key: 'notes/today', data: { todo: ['tea'] } } });
    const { resources } = await client.listResources();
    expect(resources).toEqual([expect.objectContaining({ uri: 'memory://me/notes%2Ftoday', name: 'notes/today', mimeType: 'application/json' })]);
    const read = await client.readResource({ uri: resources[0]!.uri });
    expect(read.contents).toEqual([{ uri: 'memory://me/notes%2Ftoday', mimeType: 'application/json', text: '{"todo":["tea"]}' }]);
    await expect(client.readResource({ uri: 'memory://me/absent' })).rejects.toMatchObject({ code: -32002 });
    await expect(client.readResource({ uri: 'https://example.com/x' })).rejects.toMatchObject({ code: -32602 });
    // store, list, read, the absent read: four metered calls, as the routes count them.
    expect((await m().ai.api.ledger.balance(accountId)).freeCallsRemaining).toBe(6);
  });

  it('metering: 10 free calls, the 11th without credit is the payment error of the HTTP 402; with credit, debits; balance and ledger agree', async () => {
    const { key, accountId, client } = await account(m());
    for (let i = 0; i < 10; i++) expect((await client.callTool({ name: 'memory_list', arguments: { user_id: 'u' } })).isError).toBeFalsy();
    const refused = await client.callTool({ name: 'memory_list', arguments: { user_id: 'u' } });
    expect(refused.isError).toBe(true);
    const http = await call(`${m().url}/memory/list?user_id=u`, { key });
    expect(http.status).toBe(402);
    expect(sc(refused)).toEqual(http.body);
    expect(sc(refused).payment).toMatchObject({ price_micro_usd: 100, balance_micro_usd: 0, free_calls_remaining: 0 });
    // credits_balance is free, even now.
    expect(sc(await client.callTool({ name: 'credits_balance', arguments: {} }))).toMatchObject({ balance_micro_usd: 0, free_calls_remaining: 0 });

    await m().ai.api.ledger.grant({ accountId, amountMicroUsd: 250, reason: 'test' });
    const paid = await client.callTool({ name: 'memory_list', arguments: { user_id: 'u' } });
    expect(paid.isError).toBeFalsy();
    expect(paid._meta).toMatchObject({ 'aipaygent/balance_micro_usd': 150 });
    await client.callTool({ name: 'memory_list', arguments: { user_id: 'u' } });
    expect((await client.callTool({ name: 'memory_list', arguments: { user_id: 'u' } })).isError).toBe(true);
    const balance = sc(await client.callTool({ name: 'credits_balance', arguments: {} }));
    const ledger = (await call(`${m().url}/credits/ledger`, { key })).body.entries as any[];
    expect(ledger.map((e) => [e.kind, e.amount_micro_usd, e.balance_after])).toEqual([['debit', -100, 50], ['debit', -100, 150], ['grant', 250, 250]]);
    expect(ledger[0].memo).toMatch(/^GET \/memory\/list /);
    expect(balance.balance_micro_usd).toBe(ledger[0].balance_after);
    expect(ledger.reduce((s, e) => s + e.amount_micro_usd, 0)).toBe(balance.balance_micro_usd);
  });

  it('a tool call whose service fails with a store fault gives its charge back, as the route does', async () => {
    const { accountId, client } = await account(m());
    await m().ai.api.ledger.grant({ accountId, amountMicroUsd: 1000, reason: 'test' });
    await client.callTool({ name: 'memory_store', arguments: { user_id: 'u', key: 'a', data: 1 } });
    // Today's free calls used up: the calls below are debits.
    for (let i = 0; i < 9; i++) await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'a' } });
    faults.failMemoryGets = 1;
    const failed = await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'a' } });
    expect([failed.isError, sc(failed).error.code]).toEqual([true, 'internal']);
    faults.failMemoryPuts = 1;
    const failedWrite = await client.callTool({ name: 'memory_store', arguments: { user_id: 'u', key: 'b', data: 2 } });
    expect([failedWrite.isError, sc(failedWrite).error.code]).toEqual([true, 'internal']);
    const entries = await m().ai.api.ledger.entries(accountId, { limit: 10 });
    expect(entries.slice(0, 4).map((e) => [e.kind, e.amount, e.balanceAfter])).toEqual([['refund', 100, 1000], ['debit', -100, 900], ['refund', 100, 1000], ['debit', -100, 900]]);
    expect((await m().ai.api.ledger.balance(accountId)).balanceMicroUsd).toBe(1000);
  });

  it('a tools/call memory_retrieve costs the store operations of GET /memory/retrieve: the charge (with the key check) and the read', async () => {
    const { client } = await account(m());
    await client.callTool({ name: 'memory_store', arguments: { user_id: 'u', key: 'a', data: 1 } });
    const before = { ...faults.calls };
    expect((await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'a' } })).isError).toBeFalsy();
    const delta = Object.fromEntries(Object.entries(faults.calls).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
    expect(delta).toEqual({ charge: 1, get: 1 });
  });

  it('memory_search finds by words what its HTTP route finds, in the same shape; a bad query is a tool error', async () => {
    const { client, key } = await account(m(), { 'x-aipaygent-user': 'alice' });
    await client.callTool({ name: 'memory_store', arguments: { key: 'backend_stack', data: { framework: 'FastAPI' } } });
    await client.callTool({ name: 'memory_store', arguments: { key: 'pets', data: { dog: 'Rex' } } });
    const found = await client.callTool({ name: 'memory_search', arguments: { q: 'fastapi', limit: 5 } });
    expect(found.isError).toBeFalsy();
    expect(sc(found)).toMatchObject({ status: 'success', user_id: 'alice', query: 'fastapi', mode: 'lexical', results: [{ key: 'backend_stack', data: { framework: 'FastAPI' } }] });
    const http = await call(`${m().url}/memory/search`, { key, body: { user_id: 'alice', q: 'fastapi', limit: 5 } });
    expect(sc(found).results).toEqual(http.body.results);
    const bad = await client.callTool({ name: 'memory_search', arguments: { q: '???' } });
    expect([bad.isError, sc(bad).error.code]).toEqual([true, 'invalid_request']);
  });

  it("tenant isolation: another key's tool calls never see the data, whatever user_id they name", async () => {
    const a = await account(m(), { 'x-aipaygent-user': 'shared' });
    const b = await account(m(), { 'x-aipaygent-user': 'shared' });
    await a.client.callTool({ name: 'memory_store', arguments: { key: 'secret', data: 'a-only' } });
    const seen = await b.client.callTool({ name: 'memory_retrieve', arguments: { key: 'secret' } });
    expect([seen.isError, sc(seen).error.code]).toEqual([true, 'not_found']);
    expect(sc(await b.client.callTool({ name: 'memory_list', arguments: {} })).keys).toEqual([]);
    expect(sc(await b.client.callTool({ name: 'memory_search', arguments: { q: 'only' } })).results).toEqual([]);
    expect(sc(await b.client.callTool({ name: 'memory_history', arguments: { key: 'secret' } })).versions).toEqual([]);
    const del = await b.client.callTool({ name: 'memory_delete', arguments: { key: 'secret' } });
    expect(sc(del).error.code).toBe('not_found');
    expect(sc(await a.client.callTool({ name: 'memory_retrieve', arguments: { key: 'secret' } })).data).toBe('a-only');
  });

  it('bad arguments are tool errors with the route\'s message (never a transport error), and cost nothing', async () => {
    const { accountId, client } = await account(m());
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['memory_store', { user_id: 'u', data: 1 }, /key is required/],
      ['memory_store', { key: 'k', data: 1 }, /user_id is required/],
      ['memory_store', { user_id: 'u', key: 'k', data: 1, ttl_days: -1 }, /ttl_days must be greater than 0/],
      ['memory_retrieve', { user_id: { a: 1 }, key: 'k' }, /user_id must be a string/],
      ['memory_list', { user_id: 'u', limit: 5000 }, /limit must be between 1 and 1000/],
      ['memory_append', { user_id: 'u', key: 'k', items: [] }, /items must not be empty/],
      ['memory_append', { user_id: 'u', key: 'k', items: [1], path: 'nope' }, /path must be a JSON Pointer/],
      ['memory_patch', { user_id: 'u', key: 'k', patch: 1, if_match: 'not a tag"' }, /If-Match must be/],
      ['memory_store', { user_id: 'u', key: 'k', data: JSON.parse('['.repeat(70) + ']'.repeat(70)) }, /nest|deep/i],
    ];
    for (const [name, args, message] of cases) {
      const r = await client.callTool({ name, arguments: args });
      expect([name, r.isError, sc(r).error.code]).toEqual([name, true, 'invalid_request']);
      expect(sc(r).error.message).toMatch(message);
    }
    expect((await m().ai.api.ledger.balance(accountId)).freeCallsRemaining).toBe(10);
    // An unknown tool is a protocol error (JSON-RPC -32602) answered 200, never a 5xx.
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/Unknown tool/);
  });

  it('stateless JSON-RPC: ids are per request (two clients may both send id 1), a batch answers an array, malformed params are a -32602 error', async () => {
    const a = await m().ai.api.keys.create();
    const b = await m().ai.api.keys.create();
    const get = (key: string, user: string) =>
      rpc(m().url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'credits_balance', arguments: {} } }, { authorization: `Bearer ${key}`, 'x-aipaygent-user': user });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(i % 2 ? a.api_key : b.api_key, String(i))));
    answers.forEach((r, i) => expect([r.status, r.body.id, r.body.result.structuredContent.account_id]).toEqual([200, 1, i % 2 ? a.account_id : b.account_id]));
    const auth = { authorization: `Bearer ${a.api_key}` };
    const batch = await rpc(m().url, [{ jsonrpc: '2.0', id: 'x', method: 'ping' }, { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 'y', method: 'tools/list' }], auth);
    expect([batch.status, batch.body.map((r: any) => r.id), batch.body[1].result.tools.length]).toEqual([200, ['x', 'y'], expect.any(Number)]);
    const bad = await rpc(m().url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 5 } }, auth);
    expect([bad.status, bad.body.id, bad.body.error.code]).toEqual([200, 7, -32602]);
    const unknownMethod = await rpc(m().url, { jsonrpc: '2.0', id: 8, method: 'prompts/list' }, auth);
    expect([unknownMethod.status, unknownMethod.body.error.code]).toEqual([200, -32601]);
  });

  it('401 with WWW-Authenticate for a missing, malformed or unknown key, on initialize and on a tool call; GET and DELETE are 405', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const toolCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'memory_list', arguments: { user_id: 'u' } } };
    const { api_key: key } = await m().ai.api.keys.create();
    const unknown = key.slice(0, -4) + (key.endsWith('aaaa') ? 'bbbb' : 'aaaa');
    for (const [auth, message] of [[undefined, init], ['Bearer nope', init], [`Bearer ${unknown}`, init], [`Bearer ${unknown}`, toolCall]] as const) {
      const r = await rpc(m().url, message, auth ? { authorization: auth } : {});
      expect([auth, r.status, r.headers.get('www-authenticate')]).toEqual([auth, 401, 'Bearer realm="aipaygent"']);
      expect(r.body.error.code).toBe('unauthorized');
    }
    const good = await rpc(m().url, init, { authorization: `Bearer ${key}` });
    expect([good.status, good.body.result.serverInfo.name, good.headers.get('mcp-session-id')]).toEqual([200, 'aipaygent', null]);
    const notified = await rpc(m().url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { authorization: `Bearer ${key}` });
    expect([notified.status, notified.text]).toEqual([202, '']);
    for (const method of ['GET', 'DELETE']) expect((await fetch(`${m().url}/mcp`, { method, headers: { authorization: `Bearer ${key}` } })).status).toBe(405);
    const notRpc = await rpc(m().url, { not: 'json-rpc' }, { authorization: `Bearer ${key}` });
    expect([notRpc.status, notRpc.body.error.code]).toEqual([400, 'invalid_request']);
    const oldVersion = await rpc(m().url, init, { authorization: `Bearer ${key}`, 'mcp-protocol-version': '1999-01-01' });
    expect([oldVersion.status, oldVersion.body.error.message]).toEqual([400, expect.stringMatching(/Unsupported MCP-Protocol-Version/)]);
  });
});
