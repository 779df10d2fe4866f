// The `fetch` the Anthropic SDK is given: node:http(s) with keep-alive instead of the global undici fetch.
//
// Why: on a proxied call the second hop is most of our added latency, and undici's fetch (its own
// HTTP parser in WebAssembly, web streams end to end, per-request bookkeeping) cost about a fifth
// of the proxy's CPU in `bench/claude-proxy.ts --profile`. node:http is the server's own stack.
// It implements what the SDK uses: method, headers, a string or bytes body, AbortSignal, and a
// Response whose body streams with backpressure (the socket pauses while nobody reads).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { ChunkSource } from './sse.js';

/** Statuses whose Response must have a null body (fetch spec). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** JSON bodies up to this many bytes are collected before the Response is handed out. */
const SMALL_BODY = 64 * 1024;

/** The whole body of the Responses built from a collected body: a reader may take it without a stream. */
const collected = new WeakMap<Response, Buffer>();

/** The complete body of `response` when this fetch collected it (a small JSON body), else undefined. */
export const collectedBody = (response: Response): Buffer | undefined => collected.get(response);

/** The node stream under the Responses this fetch streams: read it directly, or `response.body`, never both. */
const sources = new WeakMap<Response, ChunkSource>();

/** The body of a streamed `response` as a node stream's chunks (no web stream in between), else undefined. */
export const bodySource = (response: Response): ChunkSource | undefined => sources.get(response);

export function nodeSource(res: IncomingMessage): ChunkSource {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer, undefined>;
  return {
    read: () => chunks.next() as ReturnType<ChunkSource['read']>,
    cancel: async () => void res.destroy(),
  };
}

/** `response.body` for a streamed answer: attached to the node stream only if someone reads it. */
function lazyWebBody(res: IncomingMessage): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (Readable.toWeb(res) as ReadableStream<Uint8Array>).getReader();
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel() {
        res.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

const abortError = (): DOMException => new DOMException('This operation was aborted', 'AbortError');

/** A fetch over node:http(s) with its own keep-alive agents; `close()` ends their idle sockets. */
export interface NodeFetch {
  fetch: typeof fetch;
  /** Its keep-alive agents, shared with the raw pass-through (raw-upstream.ts). */
  agents: { http: HttpAgent; https: HttpsAgent };
  close(): void;
}

function requestBody(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // The Messages API is JSON: the SDK sends a string. Anything else (uploads) is not ours to proxy.
  throw new TypeError('aipaygent: the upstream fetch sends string or byte bodies only');
}

/** The response's header lines as pairs: the Response builds its Headers from them once. */
function responseHeaders(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/** The request's headers as node:http takes them (the SDK hands a Headers: read, not copied). */
function requestHeaders(given: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (given instanceof Headers) given.forEach((value, name) => (out[name] = value));
  else if (given) new Headers(given).forEach((value, name) => (out[name] = value));
  return out;
}

export function createNodeFetch(): NodeFetch {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  function nodeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortError());
      const headers = requestHeaders(init.headers);
      let body: string | Uint8Array | undefined;
      try {
        body = requestBody(init.body);
      } catch (error) {
        return reject(error);
      }
      const https = url.protocol === 'https:';
      const send = https ? httpsRequest : httpRequest;
      let response: IncomingMessage | undefined;
      const onAbort = () => {
        // Before the headers: the fetch rejects. After: the body stream errors, as fetch's does.
        req.destroy(abortError());
        response?.destroy(abortError());
      };
      const req = send(url, { method: init.method ?? 'GET', headers, agent: https ? agents.https : agents.http }, (res) => {
        response = res;
        const status = res.statusCode ?? 502;
        res.once('close', () => signal?.removeEventListener('abort', onAbort));
        const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res.rawHeaders) };
        if (NULL_BODY.has(status)) {
          res.resume();
          return resolve(new Response(null, init));
        }
        // A whole Message or an error (JSON, not an event stream) is collected here when it is small, so
        // that it is read in one piece; an event stream, or a body past SMALL_BODY, streams with backpressure.
        const streamed = () => {
          const response = new Response(lazyWebBody(res), init);
          sources.set(response, nodeSource(res));
          resolve(response);
        };
        const type = res.headers['content-type'] ?? '';
        if (type.startsWith('text/event-stream') || Number(res.headers['content-length']) > SMALL_BODY) return streamed();
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
          chunks.push(chunk);
          if ((size += chunk.length) <= SMALL_BODY) return;
          // Larger than announced (or not announced): hand it over as a stream, what was read first.
          res.off('data', onData).off('end', onEnd).pause();
          for (let i = chunks.length - 1; i >= 0; i--) res.unshift(chunks[i]!);
          streamed();
        };
        const onEnd = () => {
          const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          const response = new Response(whole, init);
          collected.set(response, whole);
          resolve(response);
        };
        res.on('data', onData).once('end', onEnd);
        res.once('error', (error) => reject(signal?.aborted ? abortError() : new TypeError('fetch failed', { cause: error })));
      });
      req.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        // A fetch rejects with a TypeError for network failures, its cause being the socket error.
        reject(signal?.aborted ? abortError() : new TypeError('fetch failed', { cause: error }));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  return {
    fetch: nodeFetch as typeof fetch,
    agents,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
