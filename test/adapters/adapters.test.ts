// Adapter duties: host-parsed and unparsed bodies, mount prefixes, client-disconnect AbortSignal, no globals touched.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { createAipaygent } from '../../src/create.js';
import type { CoreRequest } from '../../src/http/types.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { Keyv } from 'keyv';
import { aipaygentExpress } from '../../adapters/express.js';
import { aipaygentKoa } from '../../adapters/koa.js';
import { ADMIN_TOKEN, call, startMount, type MountKind } from '../support/mounts.js';

const KINDS: MountKind[] = ['express5', 'express4', 'koa3', 'koa2'];

describe('adapters: every framework, body parsed by the host or not', () => {
  for (const kind of KINDS) {
    for (const parsed of [true, false]) {
      it(`${kind} with ${parsed ? 'a host body parser' : 'no body parser'} stores and retrieves`, async () => {
        const m = await startMount(kind, { parsed, prefix: '' });
        try {
          const { api_key: key } = await m.ai.api.keys.create();
          const stored = await call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: { kind, parsed } } });
          expect(stored.status).toBe(200);
          expect((await call(`${m.url}/memory/retrieve?user_id=u&key=k`, { key })).body.data).toEqual({ kind, parsed });
          // A POST to a host route after the mount still has its body.
          expect((await call(`${m.hostUrl}/host/echo`, { body: { x: 1 } })).body).toEqual({ echoed: { x: 1 } });
        } finally {
          await m.close();
        }
      });
    }
  }

  it('koa: the prefix option serves only below the prefix', async () => {
    const ai = createAipaygent({ adminToken: ADMIN_TOKEN });
    const app = new Koa();
    app.use(aipaygentKoa(ai, { prefix: '/ai' }) as never);
    app.use(async (ctx) => {
      ctx.body = { host: ctx.path };
    });
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { api_key: key } = await ai.api.keys.create();
      expect((await call(`${base}/ai/memory/list?user_id=u`, { key })).status).toBe(200);
      expect((await call(`${base}/memory/list?user_id=u`, { key })).body).toEqual({ host: '/memory/list' });
      expect((await call(`${base}/aix/memory/list?user_id=u`, { key })).body).toEqual({ host: '/aix/memory/list' });
    } finally {
      server.close();
      await ai.close();
    }
  });
});

/** A store whose reads hang until released, to hold a request open. */
function slowStore(inner: Store, gate: { wait: Promise<void> }): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get') {
        return async (...args: Parameters<Store['get']>) => {
          if (args[1].startsWith('m:')) await gate.wait;
          return target.get(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('adapters: AbortSignal fires when the client disconnects', () => {
  for (const kind of KINDS) {
    it(kind, async () => {
      let release!: () => void;
      const gate = { wait: new Promise<void>((r) => (release = r)) };
      const ai = createAipaygent({ store: slowStore(new KeyvStore(new Keyv()), gate) });
      const seen: CoreRequest[] = [];
      const handle = ai.handle;
      ai.handle = (req) => {
        seen.push(req);
        return handle(req);
      };
      const m = await startMount(kind, { parsed: false, prefix: '', ai });
      try {
        const { api_key: key } = await ai.api.keys.create();
        const controller = new AbortController();
        const pending = fetch(`${m.url}/memory/retrieve?user_id=u&key=k`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal }).catch((e: Error) => e);
        await expect.poll(() => seen.length).toBe(1);
        expect(seen[0]!.signal.aborted).toBe(false);
        controller.abort();
        await pending;
        await expect.poll(() => seen[0]!.signal.aborted).toBe(true);
        release();
        // A finished response does not fire the signal.
        const done = await call(`${m.url}/memory/retrieve?user_id=u&key=k`, { key });
        expect(done.status).toBe(404);
        await new Promise((r) => setTimeout(r, 20));
        expect(seen[1]!.signal.aborted).toBe(false);
      } finally {
        release();
        await m.close();
        await ai.close();
      }
    });
  }
});

describe('adapters touch nothing of the host', () => {
  it('adds no globals and sets nothing on the Express app', async () => {
    const globalsBefore = Object.getOwnPropertyNames(globalThis).sort();
    const app = express();
    const settingsBefore = JSON.stringify((app as unknown as { settings: unknown }).settings);
    const localsBefore = Object.keys(app.locals);
    const ai = createAipaygent();
    app.use(aipaygentExpress(ai) as never);
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { api_key: key } = await ai.api.keys.create();
      await call(`http://127.0.0.1:${(server.address() as AddressInfo).port}/memory/list?user_id=u`, { key });
      expect(Object.getOwnPropertyNames(globalThis).sort()).toEqual(globalsBefore);
      expect(JSON.stringify((app as unknown as { settings: unknown }).settings)).toBe(settingsBefore);
      expect(Object.keys(app.locals)).toEqual(localsBefore);
    } finally {
      server.close();
      await ai.close();
    }
  });
});
