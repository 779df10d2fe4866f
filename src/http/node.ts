// The node:http layer both adapters share: IncomingMessage -> CoreRequest, CoreResponse -> ServerResponse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { clientClosed } from '../errors.js';
import { bodyTimedOut, bodyTooLarge } from './body.js';
import { isStreamBody } from './in-flight.js';
import type { BodySource, CoreRequest, CoreResponse } from './types.js';

/**
 * Reads the raw body up to `limit` bytes; beyond it rejects with 413 and discards the rest. Any error
 * of the request stream is its connection failing (the client aborted the upload): a quiet 400. A body
 * not all there in time is a 408 (its connection is closed with the answer: see bodyTimedOut).
 */
function streamBody(req: IncomingMessage, res: ServerResponse): BodySource {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  return {
    kind: 'stream',
    length: declared,
    read(limit, timeoutMs) {
      if (declared !== undefined && declared > limit) {
        refuse(req, res);
        return Promise.reject(bodyTooLarge(limit));
      }
      return new Promise<Uint8Array>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            cleanup();
            refuse(req, res);
            reject(bodyTooLarge(limit));
          } else chunks.push(chunk);
        };
        const onEnd = () => {
          cleanup();
          resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        };
        // 'close' before 'end' too: a body that stops half way must never leave this promise pending.
        const onGone = () => {
          cleanup();
          reject(clientClosed());
        };
        // What arrived is let go at once; the rest is never read (the answer closes the connection).
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
          cleanup();
          chunks.length = 0;
          refuse(req, res);
          reject(bodyTimedOut(timeoutMs));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('error', onGone);
          req.off('close', onGone);
        };
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onGone);
        req.on('close', onGone);
      });
    },
    discard: () => refuse(req, res),
    async *chunks(limit, idleTimeoutMs) {
      let size = declared !== undefined && declared > limit ? Infinity : 0;
      let timedOut = false;
      let iterator: AsyncIterator<Buffer> | undefined;
      try {
        // destroyOnReturn: false, so stopping early drains the rest (finally) and the 4xx still reaches the client.
        if (size <= limit) {
          // What the consumer throws in at a yield stays its own; what the request stream throws is the client leaving.
          let yielding = false;
          iterator = (req.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>)[Symbol.asyncIterator]();
          try {
            for (;;) {
              const next = await idle(iterator.next(), idleTimeoutMs);
              if (next === TIMED_OUT) {
                timedOut = true;
                throw bodyTimedOut(idleTimeoutMs!, 'between two chunks');
              }
              if (next.done) break;
              if ((size += next.value.length) > limit) break;
              yielding = true;
              yield next.value;
              yielding = false;
            }
          } catch (error) {
            throw yielding || timedOut ? error : clientClosed();
          }
        }
        if (size > limit) throw bodyTooLarge(limit);
      } finally {
        // Stalled: refused as it is (its pending read never settles, so the iterator cannot be closed first).
        if (timedOut) refuse(req, res);
        else {
          // The iterator's 'readable' listener holds the stream paused (resume() does nothing while one is attached).
          await iterator?.return?.();
          // Too large: refused, the rest unread. Else (the reader stopped at a bad line) the rest drains and the
          // connection serves its next request.
          if (size > limit) refuse(req, res);
          else if (!req.readableEnded) req.resume();
        }
      }
    },
  };
}

const TIMED_OUT = Symbol('timed out');
/**
 * How long, and how much, a refused body may still send (read and dropped, never kept) before its
 * connection is cut: a client still uploading when we answer reads our answer only if we read on.
 */
const LINGER_MS = 5_000;
const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * A body we will not read (too large, too slow, its key unknown, no room): the answer says "Connection:
 * close" (a client told keep-alive would send its next request into a socket about to die). Closing a
 * socket with unread bytes makes the kernel answer them with a reset, and a reset can overtake our answer
 * (the client's stack drops what it had not handed to the client yet): so what the client sends is read
 * and dropped, and once the answer is out the connection is half-closed (our FIN after the answer) and
 * read on until the client closes its side, LINGER_MS pass or LINGER_BYTES arrive ("lingering close", as
 * nginx does it). Nothing of the body is kept: the cost is reading it, bounded.
 */
function refuse(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  const socket = req.socket;
  if ((socket as { lingering?: true }).lingering) return;
  (socket as { lingering?: true }).lingering = true;
  let taken = 0;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  const drop = (chunk: Buffer) => {
    if ((taken += chunk.length) > LINGER_BYTES) socket.destroy();
  };
  req.on('data', drop);
  req.resume();
  // node:http ends a "Connection: close" answer with socket.destroySoon(): FIN, then close at once. Here it
  // only ends our side; the socket is closed when the client ends its own (or at the bounds above).
  socket.destroySoon = function lingerAfterAnswer(this: typeof socket) {
    this.end();
    this.on('data', drop);
    this.once('end', () => this.destroy());
    this.resume();
  };
}

/** `next`, or TIMED_OUT when it does not settle within `ms` (undefined: no limit). */
function idle<T>(next: Promise<T>, ms: number | undefined): Promise<T | typeof TIMED_OUT> {
  if (ms === undefined) return next;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  return Promise.race([next, expired]).finally(() => clearTimeout(timer));
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Aborts when the response closes before it finished (the client went away), also if it already has. */
function disconnectSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const gone = () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  };
  if (res.closed) gone();
  else res.once('close', gone);
  return controller.signal;
}

const NO_BODY: BodySource = Object.freeze({ kind: 'none' });

/** What an adapter knows beyond the node request: each read only if the core asks for it. */
export interface NodeRequestInit {
  /** The path relative to the mount when the host stripped a prefix itself (Koa `prefix`). */
  path?: string;
  /** What the host's body parser left (`req.body`, `ctx.request.body`). */
  parsedBody?: unknown;
  /** The client address as the host decides it; a function is called only when asked (Express `req.ip` is not cheap). */
  ip?: string | (() => string | undefined) | undefined;
  /** The URL as the client sent it, before the host's mount stripped a prefix (a function: read when asked). */
  originalUrl?: string | (() => string | undefined) | undefined;
}

/**
 * The core request over node's. The fields the core reads on every request are plain; the signal, ip
 * and mount path are made on first use: most requests never need them and each costs measurably
 * under load (an AbortController and a listener; Express's trust-proxy walk; string work).
 */
class NodeCoreRequest implements CoreRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: CoreRequest['headers'];
  readonly body: BodySource;
  private signalMade: AbortSignal | undefined;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly init: NodeRequestInit,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.method = req.method ?? 'GET';
    this.path = init.path ?? (q === -1 ? url : url.slice(0, q));
    this.query = q === -1 ? '' : url.slice(q + 1);
    this.headers = req.headers;
    // A parser's value counts only when that parser actually consumed the stream.
    if (!hasBody(req)) this.body = NO_BODY;
    else if (req.readableDidRead || req.readableEnded) this.body = init.parsedBody === undefined ? NO_BODY : { kind: 'parsed', value: init.parsedBody };
    else this.body = streamBody(req, res);
  }

  get signal(): AbortSignal {
    return (this.signalMade ??= disconnectSignal(this.res));
  }

  get ip(): string | undefined {
    const { ip } = this.init;
    return typeof ip === 'function' ? ip() : ip;
  }

  get mountPath(): string {
    const { originalUrl: given } = this.init;
    const originalUrl = typeof given === 'function' ? given() : given;
    return originalUrl === undefined ? '' : mountPathOf(originalUrl, this.path);
  }
}

/** Builds the core request (see NodeCoreRequest). */
export function nodeRequest(req: IncomingMessage, res: ServerResponse, init: NodeRequestInit): CoreRequest {
  return new NodeCoreRequest(req, res, init);
}

/** The mount point: the URL path the client sent (`originalUrl`) minus the path relative to the mount. */
export function mountPathOf(originalUrl: string, relativePath: string): string {
  const q = originalUrl.indexOf('?');
  const full = q === -1 ? originalUrl : originalUrl.slice(0, q);
  if (relativePath === '/' && !full.endsWith('/')) return full;
  return full.endsWith(relativePath) ? full.slice(0, full.length - relativePath.length) : '';
}

/** Writes a core response; streamed bodies honour backpressure and stop when the client leaves. */
export function writeNodeResponse(res: ServerResponse, out: CoreResponse): Promise<void> {
  const { status, headers, body } = out;
  if (body !== null && !isStreamBody(body) && status !== 204 && status !== 304 && !('content-length' in headers)) {
    // The usual answer: one writeHead with every header and the length (what res.end would compute). When
    // no header was set on `res` before (the host's), node builds the head from this list directly,
    // without setHeader's per-header map and lower-casing (measured: bench/probe.ts node-stub).
    const list: string[] = [];
    for (const name in headers) list.push(name, headers[name]!);
    list.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
    res.writeHead(status, list);
    res.end(body);
    return DONE;
  }
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]!);
  if (isStreamBody(body)) return writeStream(res, body);
  res.end(body ?? undefined);
  return DONE;
}

const DONE = Promise.resolve();

async function writeStream(res: ServerResponse, body: AsyncIterable<string | Uint8Array>): Promise<void> {
  res.flushHeaders();
  try {
    for await (const chunk of body) {
      if (res.destroyed) break;
      const drained = res.write(chunk);
      (res as { flush?: () => void }).flush?.();
      if (!drained) {
        // Cancel the losing listener: otherwise every wait leaves one behind on `res` (MaxListenersExceededWarning).
        const stop = new AbortController();
        await Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]).finally(() => stop.abort());
      }
    }
    res.end();
  } catch {
    // The stream failed after the headers went out: all we can do is cut the connection.
    res.destroy();
  }
}

/** The path below `prefix`, or undefined when the request is not under it. */
export function stripPrefix(path: string, prefix: string): string | undefined {
  if (!prefix || prefix === '/') return path;
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path === p) return '/';
  return path.startsWith(p + '/') ? path.slice(p.length) : undefined;
}
