// A webhook receiver for tests: verifies every delivery with the `standardwebhooks` reference library (never our signer),
// records what it accepted, and can be down (connection refused) or answer an error.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, any>;
}

export interface Receiver {
  url: string;
  secret: string;
  /** Deliveries that verified, in arrival order (a redelivery of an id appears again). */
  received: Received[];
  /** Deliveries whose signature did not verify (answered 400). */
  rejected: number;
  /** Answer this status instead of 204 (e.g. 500) while set. */
  failWith: number | undefined;
  /** Resolves once `n` verified deliveries arrived (of `type` when given). */
  waitFor(n: number, type?: string, timeoutMs?: number): Promise<Received[]>;
  /** Stops listening (the port stays ours to listen on again with `up`). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export async function startReceiver(opts: { port?: number; secret?: string; listen?: boolean } = {}): Promise<Receiver> {
  const secret = opts.secret ?? newSecret();
  const verifier = new Webhook(secret);
  let server: Server | undefined;
  let port = opts.port ?? 0;
  const r: Receiver = {
    url: '', secret, received: [], rejected: 0, failWith: undefined,
    async waitFor(n, type, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const got = r.received.filter((x) => type === undefined || x.type === type);
        if (got.length >= n) return got;
        if (Date.now() > end) throw new Error(`receiver: ${got.length} of ${n} ${type ?? ''} deliveries after ${timeoutMs} ms: ${JSON.stringify(r.received.map((x) => x.type))}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
    async up() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (r.failWith !== undefined) return void res.writeHead(r.failWith).end();
          try {
            const payload = verifier.verify(body, req.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, any> };
            r.received.push({ id: String(req.headers['webhook-id']), type: payload.type, timestamp: payload.timestamp, data: payload.data });
            res.writeHead(204).end();
          } catch {
            r.rejected++;
            res.writeHead(400).end();
          }
        });
      });
      await new Promise<void>((res) => server!.listen(port, '127.0.0.1', res));
      port = (server.address() as { port: number }).port;
      r.url = `http://127.0.0.1:${port}/hooks`;
    },
    async down() {
      if (!server) return;
      const s = server;
      server = undefined;
      s.closeAllConnections();
      await new Promise((res) => s.close(res));
    },
    close: () => r.down(),
  };
  if (opts.listen === false) {
    // Reserve a port for later, then stop listening: deliveries are refused until `up`.
    await r.up();
    await r.down();
  } else await r.up();
  return r;
}
