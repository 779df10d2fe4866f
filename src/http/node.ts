// The node:http layer both adapters share: IncomingMessage -> CoreRequest, CoreResponse -> ServerResponse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { bodyTooLarge } from './body.js';
import type { BodySource, CoreRequest, CoreResponse } from './types.js';

/** Reads the raw body up to `limit` bytes; beyond it rejects with 413 and discards the rest. */
function streamBody(req: IncomingMessage): BodySource {
  return {
    kind: 'stream',
    read(limit) {
      const declared = Number(req.headers['content-length']);
      if (declared > limit) {
        req.resume();
        return Promise.reject(bodyTooLarge(limit));
      }
      return new Promise<Uint8Array>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            cleanup();
            req.resume();
            reject(bodyTooLarge(limit));
          } else chunks.push(chunk);
        };
        const onEnd = () => {
          cleanup();
          resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        };
        const onError = (error: Error) => {
          cleanup();
          reject(error);
        };
        const cleanup = () => {
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('error', onError);
        };
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onError);
      });
    },
    async *chunks(limit) {
      let size = Number(req.headers['content-length']) > limit ? Infinity : 0;
      try {
        // destroyOnReturn: false, so stopping early drains the rest (finally) and the 4xx still reaches the client.
        if (size <= limit) {
          for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
            if ((size += chunk.length) > limit) break;
            yield chunk;
          }
        }
        if (size > limit) throw bodyTooLarge(limit);
      } finally {
        if (!req.readableEnded) req.resume();
      }
    },
  };
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/**
 * Builds the core request. `parsedBody` is what the host's body parser left (`req.body`,
 * `ctx.request.body`); it is used only when that parser actually consumed the stream.
 */
export function nodeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  init: { path?: string; parsedBody?: unknown; ip?: string | undefined; originalUrl?: string | undefined },
): CoreRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  let body: BodySource;
  if (!hasBody(req)) body = { kind: 'none' };
  else if (req.readableDidRead || req.readableEnded) body = init.parsedBody === undefined ? { kind: 'none' } : { kind: 'parsed', value: init.parsedBody };
  else body = streamBody(req);
  const path = init.path ?? (q === -1 ? url : url.slice(0, q));
  return {
    method: req.method ?? 'GET',
    path,
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    body,
    signal: controller.signal,
    ip: init.ip,
    mountPath: init.originalUrl === undefined ? '' : mountPathOf(init.originalUrl, path),
  };
}

/** The mount point: the URL path the client sent (`originalUrl`) minus the path relative to the mount. */
export function mountPathOf(originalUrl: string, relativePath: string): string {
  const q = originalUrl.indexOf('?');
  const full = q === -1 ? originalUrl : originalUrl.slice(0, q);
  if (relativePath === '/' && !full.endsWith('/')) return full;
  return full.endsWith(relativePath) ? full.slice(0, full.length - relativePath.length) : '';
}

/** Writes a core response; streamed bodies honour backpressure and stop when the client leaves. */
export async function writeNodeResponse(res: ServerResponse, out: CoreResponse): Promise<void> {
  res.statusCode = out.status;
  for (const name in out.headers) res.setHeader(name, out.headers[name]!);
  const body = out.body;
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
    res.end(body ?? undefined);
    return;
  }
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
