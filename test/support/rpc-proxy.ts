// A JSON-RPC pass-through in front of anvil that can rewrite the answers of one method (a malformed RPC node).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Rewrites the `result` of a call to `method`; return it unchanged to pass it on. */
export type Rewrite = (method: string, result: unknown) => unknown;

export interface RpcProxy {
  url: string;
  /** The rewrite applied from now on (undefined: everything passes unchanged). */
  rewrite: Rewrite | undefined;
  /** Methods called through the proxy, in order. */
  calls: string[];
  close(): Promise<void>;
}

interface RpcMessage {
  id?: unknown;
  method?: string;
  result?: unknown;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const proxy: RpcProxy = { url: '', rewrite: undefined, calls: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      void (async () => {
        const sent = JSON.parse(raw) as RpcMessage | RpcMessage[];
        const requests = Array.isArray(sent) ? sent : [sent];
        for (const r of requests) proxy.calls.push(String(r.method));
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
        const answer = (await upstream.json()) as RpcMessage | RpcMessage[];
        const answers = Array.isArray(answer) ? answer : [answer];
        for (const a of answers) {
          const method = requests.find((r) => r.id === a.id)?.method;
          if (proxy.rewrite && 'result' in a) a.result = proxy.rewrite(String(method), a.result);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(answer) ? answers : answers[0]));
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
