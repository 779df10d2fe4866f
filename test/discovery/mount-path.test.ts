// CoreRequest.mountPath: the mount point as the client sees it, from every way of mounting (links in /openapi.json and /docs).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { aipaygentKoa } from '../../adapters/koa.js';
import { createAipaygent } from '../../src/create.js';
import { mountPathOf } from '../../src/http/node.js';
import { call } from '../support/mounts.js';

describe('mountPathOf', () => {
  it('is the sent path minus the path relative to the mount', () => {
    expect(mountPathOf('/ai/openapi.json', '/openapi.json')).toBe('/ai');
    expect(mountPathOf('/ai/openapi.json?x=1', '/openapi.json')).toBe('/ai');
    expect(mountPathOf('/openapi.json', '/openapi.json')).toBe('');
    expect(mountPathOf('/a/b/docs/', '/docs/')).toBe('/a/b');
    expect(mountPathOf('/ai', '/')).toBe('/ai');
    expect(mountPathOf('/t%2Fx/docs', '/docs')).toBe('/t%2Fx');
    // A relative path that is not a suffix (a rewriting host): no claim rather than a wrong one.
    expect(mountPathOf('/elsewhere', '/docs')).toBe('');
  });
});

describe('the Koa adapter with its own prefix option', () => {
  it('links the documents under the prefix', async () => {
    const ai = createAipaygent();
    const app = new Koa();
    app.use(aipaygentKoa(ai, { prefix: '/api/v2' }) as never);
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
      expect((await call(`${url}/openapi.json`)).body.servers).toEqual([{ url: '/api/v2', description: 'This mount' }]);
      expect((await call(`${url}/discover`)).body.openapi).toBe('/api/v2/openapi.json');
      expect((await call(`${url}/docs`)).text).toContain('data-spec="/api/v2/openapi.json"');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await ai.close();
    }
  });
});
