// Benchmark servers: each scenario builds one HTTP server (run in its own child process by run.ts).
import { createServer, type Server } from 'node:http';
import express from 'express';
import Koa from 'koa';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import { aipaygentExpress } from '../adapters/express.js';
import { aipaygentKoa } from '../adapters/koa.js';
import { nodeRequest, writeNodeResponse } from '../src/http/node.js';
import { handbuilt, type StoredMemory } from './handbuilt.js';

/** The same memory every scenario serves: the article's coding preferences. */
export const DATA = { language: 'Python', style: 'functional', framework: 'FastAPI', testing: 'pytest', documented: true, last_updated: '2024-01-15T10:30:00Z' };
export const PATH = '/memory/retrieve?user_id=dev_user_123&key=coding_preferences';

/**
 * What the load generator sends when a scenario does not GET `PATH`. "__N__" in `body` becomes a
 * counter per request (distinct keys); it must be plain data: it travels from the child process as JSON.
 */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body: string;
}

/** What a scenario gives the load generator: a server plus the headers of each request. */
export interface Scenario {
  server: Server;
  headers: Record<string, string>;
  request?: RequestSpec;
  close(): Promise<void>;
}

/** What retrieve answers besides status, user and key: the hand-built peer stores it as is. */
const STORED: StoredMemory = {
  data: DATA, expires_at: '2027-11-24T03:37:03Z', version: 1, etag: '"z5rvwMfLNqE_eMFfgPP3W37EQ0j"', size: 139,
  created_at: '2026-11-24T03:37:02.660Z', updated_at: '2026-11-24T03:37:02.660Z',
};

/** The JSON a bare route answers: the same bytes retrieve would (shape and size). */
function bareBody(): string {
  return JSON.stringify({ status: 'success', user_id: 'dev_user_123', key: 'coding_preferences', ...STORED });
}

async function seeded(options: Parameters<typeof createAipaygent>[0] = {}): Promise<{ ai: Aipaygent; headers: Record<string, string> }> {
  // Metered as usual, with free calls to spare: a 402 would end the run early and skew it.
  const ai = createAipaygent({ freeCallsPerDay: 1_000_000, ...options });
  await ai.ready;
  const { api_key, account_id } = await ai.api.keys.create();
  // No free calls: every call debits its price, from a balance that outlasts any run.
  if (options.freeCallsPerDay === 0) await ai.api.ledger.grant({ accountId: account_id, amountMicroUsd: 1_000_000_000_000, reason: 'bench' });
  await ai.api.memory.put(account_id, { userId: 'dev_user_123', key: 'coding_preferences', data: DATA, ttlDays: 365 }, Date.now());
  return { ai, headers: { authorization: `Bearer ${api_key}` } };
}

/** 50 agents appending to one conversation (bounded by max_items), vs the same writes stored under distinct keys. */
const APPEND: RequestSpec = {
  method: 'POST', path: '/memory/append',
  body: JSON.stringify({ user_id: 'agent', key: 'conversation_history', path: '/messages', items: [{ role: 'user', content: 'How do I optimize database queries? __N__' }], max_items: 100 }),
};
const STORE: RequestSpec = {
  method: 'POST', path: '/memory/store',
  body: JSON.stringify({ user_id: 'agent', key: 'message___N__', data: { role: 'user', content: 'How do I optimize database queries? __N__' } }),
};

/** A write scenario: aipaygent in Express on `store` (free calls unlimited, so no 402 skews the run). */
async function writes(request: RequestSpec, store?: { url: string }, options: Parameters<typeof createAipaygent>[0] = {}): Promise<Scenario> {
  const storePrefix = `apgbench_${process.pid}:`;
  const { ai, headers } = await seeded({ freeCallsPerDay: 1_000_000, ...options, ...(store && { store: store.url, storePrefix, multiProcess: true }) });
  const app = express();
  app.use(express.json(), aipaygentExpress(ai) as never);
  return {
    server: createServer(app), headers: { ...headers, 'content-type': 'application/json' }, request,
    async close() {
      await ai.close();
      if (store) await (await import('../test/support/cleanup.js')).dropPrefix(store.url, storePrefix);
    },
  };
}
const redis = () => ({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const postgres = () => ({ url: process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });

/** GET /memory/retrieve through aipaygent in Express 5, on the in-memory store or on `store`. */
async function mounted(options: Parameters<typeof createAipaygent>[0] = {}, store?: { url: string }): Promise<Scenario> {
  const storePrefix = `apgbench_${process.pid}:`;
  const { ai, headers } = await seeded({ ...options, ...(store && { store: store.url, storePrefix, multiProcess: true }) });
  const app = express();
  app.use(aipaygentExpress(ai) as never);
  return {
    server: createServer(app), headers,
    async close() {
      await ai.close();
      if (store) await (await import('../test/support/cleanup.js')).dropPrefix(store.url, storePrefix);
    },
  };
}

/** The MCP call of a retrieve: `tools/call memory_retrieve` with the same user and key as PATH. */
export const MCP_RETRIEVE = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'memory_retrieve', arguments: { user_id: 'dev_user_123', key: 'coding_preferences' } },
});
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/**
 * One Express 5 mount as the README's quick start makes it (MCP on, aipaygent reading bodies itself), serving
 * either GET /memory/retrieve or its MCP tool call. MCP_HOST_JSON=1 puts express.json() before it instead.
 */
async function mcpMount(request: RequestSpec): Promise<Scenario> {
  const { ai, headers } = await seeded();
  const app = express();
  if (process.env.MCP_HOST_JSON === '1') app.use(express.json());
  app.use(aipaygentExpress(ai) as never);
  return { server: createServer(app), headers: { ...headers, ...(request.method === 'POST' && MCP_HEADERS) }, request, close: () => ai.close() };
}

export const scenarios: Record<string, () => Promise<Scenario>> = {
  'mcp-mount-http-retrieve': () => mcpMount({ method: 'GET', path: PATH, body: '' }),
  'mcp-mount-tool-retrieve': () => mcpMount({ method: 'POST', path: '/mcp', body: MCP_RETRIEVE }),
  'memory-append-one-key': () => writes(APPEND),
  'memory-store-distinct-keys': () => writes(STORE),
  'redis-append-one-key': () => writes(APPEND, redis()),
  'redis-store-distinct-keys': () => writes(STORE, redis()),
  // The cost of the search index on writes: the same stores with `search: false` (no index kept).
  'memory-store-unindexed': () => writes(STORE, undefined, { search: false }),
  'postgres-store-distinct-keys': () => writes(STORE, postgres()),
  'postgres-store-unindexed': () => writes(STORE, postgres(), { search: false }),
  async 'express-bare'() {
    const app = express();
    const body = bareBody();
    app.get('/memory/retrieve', (_req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(body);
    });
    return { server: createServer(app), headers: {}, close: async () => {} };
  },
  'express-retrieve': () => mounted(),
  // No framework: a node:http server whose one route answers the bytes, vs aipaygent as `serve` mounts it.
  async 'node-bare'() {
    const body = bareBody();
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) === '/memory/retrieve') {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(body);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    return { server, headers: {}, close: async () => {} };
  },
  async 'node-retrieve'() {
    const { ai, headers } = await seeded();
    return { ...nodeMount(ai, headers), close: () => ai.close() };
  },
  // What a user would build by hand instead (bench/handbuilt.ts): Express, a SHA-256 key lookup, express-rate-limit.
  'handbuilt-memory': () => handbuilt('memory', STORED),
  'handbuilt-redis': () => handbuilt('redis', STORED),
  'express-retrieve-unmetered': () => mounted({ metering: false }),
  // The same with /metrics on: every call reports its request and store events to the Prometheus registry.
  'express-retrieve-metrics': () => mounted({ metricsToken: 'bench-metrics-token-0123456789' }),
  async 'express-redis-bare'() {
    // The least a Redis-backed route can do: one GET of the stored JSON, sent as is.
    const { createClient } = await import('@redis/client');
    const url = redis().url;
    const client = createClient({ url });
    await client.connect();
    const key = `apgbench_bare_${process.pid}`;
    await client.set(key, bareBody());
    const app = express();
    app.get('/memory/retrieve', (_req, res, next) => {
      client.get(key).then((body) => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(body);
      }, next);
    });
    return {
      server: createServer(app), headers: {},
      async close() {
        await client.del(key);
        client.destroy();
      },
    };
  },
  'express-redis-retrieve': () => mounted({}, redis()),
  // The same call on a Redis Cluster of 3 masters + 3 replicas started for the run (on this same machine).
  async 'express-cluster-retrieve'() {
    const { startCluster } = await import('../test/support/redis-cluster.js');
    const cluster = await startCluster();
    const scenario = await mounted({}, { url: cluster.url });
    return { ...scenario, close: async () => (await scenario.close(), await cluster.stop()) };
  },
  'express-redis-retrieve-unmetered': () => mounted({ metering: false }, redis()),
  // The cost of usage counters (counted inside the charge): the same calls with `usage: false`, free and paid.
  'express-retrieve-no-usage': () => mounted({ usage: false }),
  'express-redis-retrieve-no-usage': () => mounted({ usage: false }, redis()),
  'express-retrieve-paid': () => mounted({ freeCallsPerDay: 0 }),
  'express-retrieve-paid-no-usage': () => mounted({ freeCallsPerDay: 0, usage: false }),
  'express-redis-retrieve-paid': () => mounted({ freeCallsPerDay: 0 }, redis()),
  'express-redis-retrieve-paid-no-usage': () => mounted({ freeCallsPerDay: 0, usage: false }, redis()),
  async 'koa-bare'() {
    const app = new Koa();
    const body = bareBody();
    app.use(async (ctx) => {
      if (ctx.path === '/memory/retrieve') {
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = body;
      }
    });
    return { server: createServer(app.callback()), headers: {}, close: async () => {} };
  },
  async 'koa-retrieve'() {
    const { ai, headers } = await seeded();
    const app = new Koa();
    app.use(aipaygentKoa(ai) as never);
    return { server: createServer(app.callback()), headers, close: () => ai.close() };
  },
};

// Scenarios for bench/probe.ts (not in the pairs of run.ts): where a mounted request's cost goes.
/** The headers a metered retrieve answers with, for the stub cores below. */
const STUB_HEADERS = {
  'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', etag: '"z5rvwMfLNqE_eMFfgPP3W37EQ0j"',
  'ratelimit-policy': '"free";q=1000000;w=86400', ratelimit: '"free";r=999999;t=3000', 'x-credits-balance-micro-usd': '0',
};

/** A core that answers the retrieve bytes at once, after busy-waiting `burnUs` µs. */
function stubCore(burnUs: number): Aipaygent {
  const body = bareBody();
  const burn = BigInt(Math.round(burnUs * 1000));
  const core = {
    async handle() {
      const t0 = process.hrtime.bigint();
      while (process.hrtime.bigint() - t0 < burn);
      return { status: 200, headers: STUB_HEADERS, body };
    },
  };
  return core as unknown as Aipaygent;
}

/** The Koa adapter around stubCore(burnUs). */
function koaStub(burnUs: number): Scenario {
  const app = new Koa();
  app.use(aipaygentKoa(stubCore(burnUs)) as never);
  return { server: createServer(app.callback()), headers: {}, close: async () => {} };
}

/** The Express adapter around stubCore(burnUs). */
function expressStub(burnUs: number): Scenario {
  const app = express();
  app.use(aipaygentExpress(stubCore(burnUs)) as never);
  return { server: createServer(app), headers: {}, close: async () => {} };
}

/** The node:http bridge around `core`, as node-retrieve mounts it. */
function nodeMount(core: Aipaygent, headers: Record<string, string> = {}): Scenario {
  const server = createServer((req, res) => {
    core.handle(nodeRequest(req, res, { ip: req.socket.remoteAddress }))
      .then((out) => (out ? writeNodeResponse(res, out) : void ((res.statusCode = 404), res.end())))
      .catch(() => res.destroy());
  });
  return { server, headers, close: async () => {} };
}

Object.assign(scenarios, {
  /** The node:http bridge around an instant core (the same bytes and headers as a metered retrieve). */
  'node-stub': async () => nodeMount(stubCore(0)),
  'node-burn': async () => nodeMount(stubCore(Number(process.env.BURN_US ?? 8))),
  'koa-retrieve-unmetered': async () => {
    const { ai, headers } = await seeded({ metering: false });
    const app = new Koa();
    app.use(aipaygentKoa(ai) as never);
    return { server: createServer(app.callback()), headers, close: () => ai.close() };
  },
  /** The adapter's own cost: Koa plus the node bridge, no core work. */
  'koa-stub': async () => koaStub(0),
  /** The adapter plus BURN_US µs (default 8) of pure CPU per request: how added work scales under load. */
  'koa-burn': async () => koaStub(Number(process.env.BURN_US ?? 8)),
  /** The same two for Express. */
  'express-stub': async () => expressStub(0),
  'express-burn': async () => expressStub(Number(process.env.BURN_US ?? 8)),
} satisfies Record<string, () => Promise<Scenario>>);
