// MCP: a tool runs its HTTP twin's route, scope included: a key without the scope gets a tool error carrying the 403 body.
import { afterEach, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, describeMounts } from '../support/mounts.js';
import { mcpClient, rpc, sc } from './support.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describeMounts('mcp: scoped keys', () => ({ freeCallsPerDay: 5 }), (m) => {
  it('a memory-read-only key: memory_store is a tool error with the 403 body naming memory:write; reads work; nothing taken', async () => {
    const writer = await m().ai.api.keys.create();
    const reader = await m().ai.api.keys.create({ accountId: writer.account_id, scopes: ['memory:read'] });
    expect((await call(`${m().url}/memory/store`, { key: writer.api_key, body: { user_id: 'u', key: 'k', data: { v: 1 } } })).status).toBe(200);
    const client = await mcpClient(m().url, reader.api_key);
    open.push(client);
    // tools/list still lists every tool (a scope limits calls, not the catalogue).
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('memory_store');
    const freeBefore = sc(await client.callTool({ name: 'credits_balance', arguments: {} })).free_calls_remaining;

    const refused = await client.callTool({ name: 'memory_store', arguments: { user_id: 'u', key: 'k', data: { v: 2 } } });
    expect(refused.isError).toBe(true);
    const body = sc(refused);
    expect(body).toEqual({ status: 'error', error: { code: 'forbidden', message: expect.stringContaining('"memory:write"') } });
    expect(JSON.parse((refused.content as Array<{ text: string }>)[0]!.text)).toEqual(body);
    // The same body as the HTTP route answers.
    const http = await call(`${m().url}/memory/store`, { key: reader.api_key, body: { user_id: 'u', key: 'k', data: { v: 2 } } });
    expect(http.status).toBe(403);
    expect(http.body).toEqual(body);
    expect(sc(await client.callTool({ name: 'memory_delete', arguments: { user_id: 'u', key: 'k' } })).error.code).toBe('forbidden');

    const read = await client.callTool({ name: 'memory_retrieve', arguments: { user_id: 'u', key: 'k' } });
    expect(read.isError).toBeFalsy();
    expect(sc(read).data).toEqual({ v: 1 });
    // Refused calls took no free call; the read took one.
    expect(sc(await client.callTool({ name: 'credits_balance', arguments: {} })).free_calls_remaining).toBe(freeBefore - 1);
  });

  it('over raw JSON-RPC the refusal is a tool result (HTTP 200), not an HTTP error; a bad key is still HTTP 401', async () => {
    const reader = await m().ai.api.keys.create({ scopes: ['memory:read'] });
    const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'memory_store', arguments: { user_id: 'u', key: 'k', data: 1 } } };
    const r = await rpc(m().url, message, { authorization: `Bearer ${reader.api_key}` });
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ isError: true, structuredContent: { error: { code: 'forbidden' } } });
    const forged = reader.api_key.slice(0, -4) + (reader.api_key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await rpc(m().url, message, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });
});
