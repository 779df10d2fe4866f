// Koa 2/3 adapter: translate the context, let the core answer, or await next() for the host's routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { AipaygentOptions } from '../src/config.js';
import { surfaceStartupError, type StartupErrorHandler } from '../src/http/boot.js';
import { nodeRequest, stripPrefix } from '../src/http/node.js';

/** The parts of a Koa context the adapter uses (structural, so Koa 2 and 3 both fit). */
interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  originalUrl: string;
  ip: string;
  request: { body?: unknown };
  status: number;
  body: unknown;
  set(headers: Record<string, string>): void;
}

export interface KoaAdapterOptions {
  /** Serve only below this path (e.g. "/ai"); koa-mount works too. @default "/" */
  prefix?: string;
  /** Told why the service failed to start (`ai.ready` rejected). @default stop the process with the reason (fail fast) */
  onStartupError?: StartupErrorHandler;
}

/**
 * Koa middleware serving aipaygent.
 * @example
 * app.use(aipaygentKoa(createAipaygent({ adminToken }), { prefix: '/ai' }));
 */
export function aipaygentKoa(service: Aipaygent | AipaygentOptions = {}, options: KoaAdapterOptions = {}): (ctx: KoaContext, next: () => Promise<unknown>) => Promise<unknown> {
  const core = 'handle' in service ? service : createAipaygent(service);
  const prefix = options.prefix ?? '/';
  surfaceStartupError(core, options.onStartupError);
  return async function aipaygent(ctx, next) {
    const path = stripPrefix(ctx.path, prefix);
    if (path === undefined) return next();
    const out = await core.handle(nodeRequest(ctx.req, ctx.res, { path, parsedBody: ctx.request.body, ip: () => ctx.ip, originalUrl: () => ctx.originalUrl }));
    if (!out) return next();
    ctx.set(out.headers);
    const body = out.body;
    // Koa serialises anything that is not a string, Buffer or stream as JSON: hand it one of those.
    if (body === null || typeof body === 'string') ctx.body = body;
    else if (body instanceof Uint8Array) ctx.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else ctx.body = Readable.from(body, { objectMode: false });
    // After the body: a null body makes Koa answer 204 unless the status is set after it (a 202 has none).
    ctx.status = out.status;
  };
}
