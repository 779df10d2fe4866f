// Express 4/5 adapter: translate the request, let the core answer, or call next() for the host's routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { AipaygentOptions } from '../src/config.js';
import { surfaceStartupError, type StartupErrorHandler } from '../src/http/boot.js';
import { nodeRequest, writeNodeResponse } from '../src/http/node.js';

/** The parts of Express's request the adapter reads (`body` from express.json(), `ip` honouring trust proxy). */
type ExpressRequest = IncomingMessage & { body?: unknown; ip?: string | undefined; originalUrl?: string };
type Next = (error?: unknown) => void;

export interface ExpressAdapterOptions {
  /** Told why the service failed to start (`ai.ready` rejected). @default stop the process with the reason (fail fast) */
  onStartupError?: StartupErrorHandler;
}

/**
 * Express middleware serving aipaygent. Mount it at any path: `req.url` is already relative there.
 * @example
 * app.use('/ai', aipaygentExpress(createAipaygent({ adminToken })));
 */
export function aipaygentExpress(
  service: Aipaygent | AipaygentOptions = {},
  options: ExpressAdapterOptions = {},
): (req: ExpressRequest, res: ServerResponse, next: Next) => void {
  const core = 'handle' in service ? service : createAipaygent(service);
  surfaceStartupError(core, options.onStartupError);
  return function aipaygent(req, res, next) {
    const request = nodeRequest(req, res, { parsedBody: req.body, ip: () => req.ip, originalUrl: () => req.originalUrl });
    core.handle(request).then((out) => (out ? writeNodeResponse(res, out) : next()), next);
  };
}
