// Starts aipaygent inside each supported host (Express 5/4, Koa 3/2, bare node:http) for the HTTP conformance suite.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import mount from 'koa-mount';
import { bodyParser } from '@koa/bodyparser';
import { describe, afterAll, beforeAll } from 'vitest';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import type { AipaygentOptions } from '../../src/config.js';
import { json } from '../../src/http/respond.js';
import { nodeRequest, writeNodeResponse } from '../../src/http/node.js';
import { aipaygentExpress } from '../../adapters/express.js';
import { aipaygentKoa } from '../../adapters/koa.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export type MountKind = 'express5' | 'express4' | 'koa3' | 'koa2' | 'core';

/** How each mount is set up: framework, body already parsed by the host or not, mount prefix. */
export const MOUNTS: ReadonlyArray<{ kind: MountKind; parsed: boolean; prefix: string }> = [
  { kind: 'express5', parsed: true, prefix: '/ai' },
  { kind: 'express4', parsed: false, prefix: '' },
  { kind: 'koa3', parsed: true, prefix: '/ai' },
  { kind: 'koa2', parsed: false, prefix: '' },
  { kind: 'core', parsed: false, prefix: '' },
];

export interface Mounted {
  kind: MountKind;
  parsed: boolean;
  /** Base URL of the mount, e.g. http://127.0.0.1:1234/ai */
  url: string;
  /** Base URL of the host app (for its own routes). */
  hostUrl: string;
  /** Path prefix of the mount ("" or "/ai"). */
  prefix: string;
  server: Server;
  ai: Aipaygent;
  close(): Promise<void>;
}

function hostRoutesExpress(app: express5.Express): void {
  app.get('/host/ping', (_req, res) => {
    res.json({ host: true });
  });
}

/** Builds the host app of `kind` with aipaygent mounted, and listens on a free port. */
export async function startMount(kind: MountKind, opts: { parsed: boolean; prefix: string; options?: AipaygentOptions; ai?: Aipaygent }): Promise<Mounted> {
  const ai = opts.ai ?? createAipaygent({ adminToken: ADMIN_TOKEN, ...opts.options });
  await ai.ready;
  let server: Server;
  if (kind === 'express5' || kind === 'express4') {
    // Express 4 and 5 differ only in types here: drive both through Express 5's.
    const app = (kind === 'express5' ? express5() : express4()) as unknown as express5.Express;
    hostRoutesExpress(app);
    if (opts.parsed) app.use((kind === 'express5' ? express5.json({ limit: '2mb' }) : express4.json({ limit: '2mb' })) as never);
    if (opts.prefix) app.use(opts.prefix, aipaygentExpress(ai) as never);
    else app.use(aipaygentExpress(ai) as never);
    // A host route after the mount: reached only when aipaygent falls through, body still readable.
    app.post('/host/echo', (req, res) => {
      if (opts.parsed) return res.json({ echoed: req.body });
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c));
      req.on('end', () => res.json({ echoed: JSON.parse(raw) }));
    });
    server = createServer(app as never);
  } else if (kind === 'koa3' || kind === 'koa2') {
    const app = kind === 'koa3' ? new Koa3() : new Koa2();
    if (opts.parsed) app.use(bodyParser() as never);
    const mw = aipaygentKoa(ai) as never;
    app.use(opts.prefix ? (mount(opts.prefix, mw) as never) : mw);
    app.use(async (ctx: { path: string; method: string; body: unknown; req: NodeJS.ReadableStream; request: { body?: unknown } }) => {
      if (ctx.path === '/host/ping') ctx.body = { host: true };
      if (ctx.path === '/host/echo' && ctx.method === 'POST') {
        if (opts.parsed) ctx.body = { echoed: ctx.request.body };
        else {
          let raw = '';
          for await (const c of ctx.req) raw += String(c);
          ctx.body = { echoed: JSON.parse(raw) };
        }
      }
    });
    server = createServer(app.callback());
  } else {
    const notFound = json(404, { status: 'error', error: { code: 'not_found', message: 'No such endpoint' } });
    server = createServer((req, res) => {
      if (req.url === '/host/ping') return void res.end(JSON.stringify({ host: true }));
      void ai.handle(nodeRequest(req, res, { ip: req.socket.remoteAddress })).then((out) => writeNodeResponse(res, out ?? notFound));
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const hostUrl = `http://127.0.0.1:${port}`;
  return {
    kind, parsed: opts.parsed, url: hostUrl + opts.prefix, hostUrl, prefix: opts.prefix, server, ai,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!opts.ai) await ai.close();
    },
  };
}

/**
 * Runs `suite` once per mount (Express 5/4, Koa 3/2, bare core), each with its own service built
 * from `options()`. The suite reads the current mount through the getter it receives.
 */
export function describeMounts(title: string, options: () => AipaygentOptions | Promise<AipaygentOptions>, suite: (m: () => Mounted) => void): void {
  for (const spec of MOUNTS) {
    describe(`${title} [${spec.kind}${spec.parsed ? ', host-parsed body' : ''}${spec.prefix ? `, under ${spec.prefix}` : ''}]`, () => {
      let mounted: Mounted | undefined;
      beforeAll(async () => {
        mounted = await startMount(spec.kind, { parsed: spec.parsed, prefix: spec.prefix, options: await options() });
      });
      afterAll(async () => {
        await mounted?.close();
      });
      suite(() => mounted!);
    });
  }
}

/** fetch against a mount, returning status, headers and parsed JSON (or text). */
export async function call(
  url: string,
  init: { method?: string; key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Backends the HTTP suites also run on: each returns store options, or null when unreachable (skip). */
export const BACKENDS: Record<string, () => Promise<{ store: string; storePrefix: string } | null>> = {
  async redis() {
    const { redisUrlOrSkip } = await import('./backends.js');
    const url = await redisUrlOrSkip();
    return url ? { store: url, storePrefix: `apghttp_${Math.random().toString(36).slice(2, 10)}:` } : null;
  },
  async postgres() {
    const { postgresUrlOrSkip } = await import('./backends.js');
    const url = await postgresUrlOrSkip();
    return url ? { store: url, storePrefix: `apghttp_${Math.random().toString(36).slice(2, 10)}` } : null;
  },
  async sqlite() {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/apg-http-`);
    return { store: `sqlite://${dir}/store.db`, storePrefix: 'apghttp' };
  },
};

/**
 * Runs `suite` on an Express 5 mount over each real backend (Redis, Postgres, SQLite), each with its
 * own prefix, removed afterwards. Unreachable backends skip (or fail with REQUIRE_BACKENDS=1).
 * Await it at the top level of the test file: backends are located while tests are collected.
 */
export async function describeBackends(title: string, suite: (m: () => Mounted) => void, extra: AipaygentOptions = {}): Promise<void> {
  for (const [name, locate] of Object.entries(BACKENDS)) {
    const location = await locate();
    (location ? describe : describe.skip)(`${title} [express5 on ${name}]`, () => {
      let mounted: Mounted | undefined;
      beforeAll(async () => {
        mounted = await startMount('express5', { parsed: true, prefix: '/ai', options: { ...extra, ...location! } });
      });
      afterAll(async () => {
        await mounted?.close();
        const { dropPrefix } = await import('./cleanup.js');
        await dropPrefix(location!.store, location!.storePrefix);
      });
      suite(() => mounted!);
    });
  }
}
