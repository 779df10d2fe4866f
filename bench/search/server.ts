// An in-process HTTP server for the search benchmarks: aipaygent in Express 5 on a free port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { aipaygentExpress } from '../../adapters/express.js';
import type { AipaygentOptions } from '../../src/config.js';
import { createAipaygent, type Aipaygent } from '../../src/create.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface BenchServer {
  ai: Aipaygent;
  url: string;
  close(): Promise<void>;
}

/** Starts aipaygent with `options` (and the benchmark's admin token) behind express.json(), listening on 127.0.0.1. */
export async function startServer(options: AipaygentOptions = {}): Promise<BenchServer> {
  const ai = createAipaygent({ adminToken: ADMIN_TOKEN, ...options });
  try {
    await ai.ready;
  } catch (error) {
    // A startup that failed half way may hold a store connection open: close it, or the process never exits.
    await ai.close();
    throw error;
  }
  const app = express();
  app.use(express.json({ limit: '2mb' }), aipaygentExpress(ai) as never);
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ai,
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await ai.close();
    },
  };
}
