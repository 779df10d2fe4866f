// The mcp option: on by default (the SDK is installed here), off, or moved; a bad path is an options error.
import { describe, expect, it } from 'vitest';
import { createAipaygent } from '../../src/create.js';
import { call, startMount } from '../support/mounts.js';
import { mcpClient, sc } from './support.js';

describe('mcp option', () => {
  it('mcp: false serves no MCP endpoint (the host answers), and the feature line says how to have one', async () => {
    const m = await startMount('express5', { parsed: true, prefix: '', options: { mcp: false } });
    try {
      const { api_key: key } = await m.ai.api.keys.create();
      const r = await call(`${m.url}/mcp`, { key, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
      expect(r.status).toBe(404);
      expect(r.body).toBeUndefined(); // Express's own HTML 404: not ours
      expect(m.ai.features()).toContain('mcp: off (npm install @modelcontextprotocol/sdk: on by default once installed, unless the mcp option is false)');
      expect(m.ai.routes.some((x) => x.path === '/mcp')).toBe(false);
      expect((await call(`${m.url}/discover`)).body.mcp).toBeUndefined();
    } finally {
      await m.close();
    }
  });

  it('mcp: { path } moves the endpoint', async () => {
    const m = await startMount('koa3', { parsed: true, prefix: '/ai', options: { mcp: { path: '/agents/mcp' } } });
    try {
      const { api_key: key } = await m.ai.api.keys.create();
      const client = await mcpClient(`${m.url}/agents`, key);
      expect(sc(await client.callTool({ name: 'credits_balance', arguments: {} })).status).toBe('success');
      await client.close();
      expect(m.ai.features()).toContain('mcp: on (POST /agents/mcp, tools metered as their routes)');
      expect((await call(`${m.url}/discover`)).body.mcp.endpoint).toBe('/ai/agents/mcp');
    } finally {
      await m.close();
    }
  });

  it('a path that is not one, or one of ours, is an options error', () => {
    expect(() => createAipaygent({ mcp: { path: 'mcp' } })).toThrow(/mcp.path must be a path/);
    expect(() => createAipaygent({ mcp: { path: '/memory/store' } })).toThrow(/mcp.path \/memory\/store is a route of aipaygent already/);
  });
});
