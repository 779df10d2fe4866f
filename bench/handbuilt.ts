// The peer a user would build by hand instead of mounting aipaygent: Express 5, an API-key check by
// SHA-256 lookup, express-rate-limit per account (its memory store, or rate-limit-redis), and the
// same retrieve answer. The code is what its docs suggest, written plainly; nothing tuned for the bench.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type { Scenario } from './scenarios.js';

/** The memory retrieve serves, with the fields aipaygent answers besides `data`. */
export interface StoredMemory {
  data: unknown;
  expires_at: string;
  version: number;
  etag: string;
  size: number;
  created_at: string;
  updated_at: string;
}

/** Where the hand-built server keeps its API keys (by SHA-256 hex) and memories. */
interface Backend {
  accountOf(keyHash: string): Promise<string | undefined>;
  memory(accountId: string, userId: string, key: string): Promise<StoredMemory | undefined>;
  limiterStore?: Store;
  close(): Promise<void>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The Express app: auth, then the rate limit (free quota per account and day), then the route. */
function app(backend: Backend): express.Express {
  const a = express();
  a.use('/memory', (req: Request, res: Response, next: NextFunction) => {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!token) return void res.status(401).json({ status: 'error', error: { code: 'unauthorized', message: 'Missing API key' } });
    backend.accountOf(sha256(token)).then((accountId) => {
      if (!accountId) return void res.status(401).json({ status: 'error', error: { code: 'unauthorized', message: 'Invalid API key' } });
      res.locals.accountId = accountId;
      next();
    }, next);
  });
  a.use('/memory', rateLimit({
    windowMs: 24 * 60 * 60 * 1000, limit: 1_000_000, standardHeaders: 'draft-8', legacyHeaders: false,
    keyGenerator: (_req, res) => res.locals.accountId as string,
    ...(backend.limiterStore && { store: backend.limiterStore }),
  }));
  a.get('/memory/retrieve', (req, res, next) => {
    const { user_id: userId, key } = req.query;
    if (typeof userId !== 'string' || typeof key !== 'string') return void res.status(400).json({ status: 'error', error: { code: 'invalid_request', message: 'user_id and key are required' } });
    backend.memory(res.locals.accountId as string, userId, key).then((m) => {
      if (!m) return void res.status(404).json({ status: 'error', error: { code: 'not_found', message: `No memory "${key}"` } });
      res.setHeader('etag', m.etag);
      res.setHeader('cache-control', 'no-store');
      res.json({ status: 'success', user_id: userId, key, data: m.data, expires_at: m.expires_at, version: m.version, etag: m.etag, size: m.size, created_at: m.created_at, updated_at: m.updated_at });
    }, next);
  });
  return a;
}

/** The hand-built server on `backend`, with one API key for one account holding `memory` under the bench's user and key. */
export async function handbuilt(kind: 'memory' | 'redis', memory: StoredMemory): Promise<Scenario> {
  const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
  const accountId = `acct_${randomBytes(8).toString('hex')}`;
  const backend = kind === 'memory' ? inMemory(apiKey, accountId, memory) : await onRedis(apiKey, accountId, memory);
  return { server: createServer(app(backend)), headers: { authorization: `Bearer ${apiKey}` }, close: () => backend.close() };
}

function inMemory(apiKey: string, accountId: string, memory: StoredMemory): Backend {
  const keys = new Map([[sha256(apiKey), accountId]]);
  const memories = new Map([[`${accountId}:dev_user_123:coding_preferences`, memory]]);
  return {
    accountOf: async (hash) => keys.get(hash),
    memory: async (account, userId, key) => memories.get(`${account}:${userId}:${key}`),
    close: async () => {},
  };
}

async function onRedis(apiKey: string, accountId: string, memory: StoredMemory): Promise<Backend> {
  const { createClient } = await import('@redis/client');
  const { RedisStore } = await import('rate-limit-redis');
  const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  await client.connect();
  const prefix = `apgbench_hand_${process.pid}:`;
  await client.set(`${prefix}key:${sha256(apiKey)}`, accountId);
  await client.set(`${prefix}mem:${accountId}:dev_user_123:coding_preferences`, JSON.stringify(memory));
  return {
    accountOf: async (hash) => (await client.get(`${prefix}key:${hash}`)) ?? undefined,
    async memory(account, userId, key) {
      const text = await client.get(`${prefix}mem:${account}:${userId}:${key}`);
      return text === null ? undefined : (JSON.parse(text) as StoredMemory);
    },
    limiterStore: new RedisStore({ prefix: `${prefix}rl:`, sendCommand: (...args: string[]) => client.sendCommand(args) }),
    async close() {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(keys);
      client.destroy();
    },
  };
}
