// The node:http fetch the SDK is given behaves like fetch where the SDK and the proxy rely on it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/claude/node-fetch.js';

let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
const http = createNodeFetch();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('node fetch', () => {
  it('sends method, headers and a JSON body with its length; answers status, headers and body', async () => {
    handler = (req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json', 'request-id': 'req_1', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, length: req.headers['content-length'], key: req.headers['x-api-key'], body: JSON.parse(body) }));
    };
    const res = await http.fetch(`${base}/v1/messages`, { method: 'POST', headers: new Headers({ 'x-api-key': 'k', 'content-type': 'application/json' }), body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('request-id')).toBe('req_1');
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await res.json()).toEqual({ method: 'POST', length: '7', key: 'k', body: { a: 1 } });
  });

  it('streams a body without a length as it arrives', async () => {
    let finish!: () => void;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {}\n\n');
      finish = () => res.end('event: message_stop\ndata: {}\n\n');
    };
    const res = await http.fetch(`${base}/s`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('ping');
    finish();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain('message_stop');
  });

  it('a null-body status gives a null body', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    const res = await http.fetch(`${base}/n`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it('rejects with AbortError when aborted before the answer, and errors the body when aborted during it', async () => {
    handler = () => {}; // never answers
    const early = new AbortController();
    const pending = http.fetch(`${base}/slow`, { method: 'POST', body: '{}', signal: early.signal });
    setTimeout(() => early.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {}\n\n');
    };
    const late = new AbortController();
    const res = await http.fetch(`${base}/half`, { method: 'POST', body: '{}', signal: late.signal });
    const reader = res.body!.getReader();
    await reader.read();
    late.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(http.fetch(`${base}/x`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a refused connection is a TypeError with the socket error as cause, as fetch gives', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    await expect(http.fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).rejects.toMatchObject({ name: 'TypeError', cause: { code: 'ECONNREFUSED' } });
  });

  it('refuses a body it cannot send instead of sending something else', async () => {
    await expect(http.fetch(`${base}/`, { method: 'POST', body: new FormData() })).rejects.toThrow(/string or byte bodies/);
  });
});

describe('node fetch: collected bodies', () => {
  it('a small body with a length is handed over whole (collectedBody), a streamed one is not', async () => {
    const { collectedBody } = await import('../../src/claude/node-fetch.js');
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '14' }).end('{"id":"msg_1"}');
    const small = await http.fetch(`${base}/m`, { method: 'POST', body: '{}' });
    expect(collectedBody(small)?.toString()).toBe('{"id":"msg_1"}');
    expect(await small.text()).toBe('{"id":"msg_1"}');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: ping\ndata: {}\n\n');
    };
    const streamed = await http.fetch(`${base}/s`, { method: 'POST', body: '{}' });
    expect(collectedBody(streamed)).toBeUndefined();
    expect(await streamed.text()).toContain('ping');
  });
});

describe('node fetch: bodies without a length', () => {
  it('a small chunked JSON body is collected; a large one streams, every byte in order', async () => {
    const { collectedBody } = await import('../../src/claude/node-fetch.js');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
      res.end('"msg_2"}');
    };
    const small = await http.fetch(`${base}/c`, { method: 'POST', body: '{}' });
    expect(collectedBody(small)?.toString()).toBe('{"id":"msg_2"}');

    const big = JSON.stringify({ text: Array.from({ length: 30_000 }, (_, i) => String(i)).join(',') }); // ~170 KB
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 7000) res.write(big.slice(i, i + 7000));
      res.end();
    };
    const large = await http.fetch(`${base}/big`, { method: 'POST', body: '{}' });
    expect(collectedBody(large)).toBeUndefined();
    expect(await large.text()).toBe(big);
  });
});

describe('node fetch: the node stream under a streamed answer', () => {
  it('bodySource reads the chunks without the web stream; cancel ends the connection', async () => {
    const { bodySource } = await import('../../src/claude/node-fetch.js');
    let closed!: Promise<void>;
    handler = (_req, res) => {
      closed = new Promise((r) => res.once('close', () => r()));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {}\n\n');
    };
    const res = await http.fetch(`${base}/src`, { method: 'POST', body: '{}' });
    const source = bodySource(res)!;
    const first = await source.read();
    expect(first.done === false && new TextDecoder().decode(first.value)).toContain('ping');
    const pending = source.read();
    await source.cancel();
    await expect(pending).rejects.toThrow();
    await closed;
  });
});
