// `aipaygent serve`: aipaygent alone on node:http, configured by environment variables (the README's table).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createAipaygent, type Aipaygent } from '../create.js';
import { nodeRequest, writeNodeResponse } from '../http/node.js';
import { json } from '../http/respond.js';
import { StartupError } from '../optional.js';
import { describeStore } from '../storage/open.js';
import { integer, parse, UsageError, type CommandSpec } from './args.js';
import { envOptions, type Io } from './io.js';

export const SERVE: CommandSpec = {
  usage: 'aipaygent serve [--port <n>] [--host <address>]',
  summary: 'Runs the standalone server: the whole API at the root of its own node:http server, configured by AIPAYGENT_* variables.',
  options: { port: { type: 'string' }, host: { type: 'string' } },
  help: [
    '  --port <n>         the port (default: PORT, else 3000)',
    '  --host <address>   the address to listen on (default: every interface)',
    'Without AIPAYGENT_ADMIN_TOKEN it makes one up and prints it with a first API key, so the first curl works at once.',
    'SIGINT/SIGTERM: stops accepting, lets the calls in flight answer (10 s at most), closes the store, exits.',
  ],
};

const NOT_FOUND = json(404, { status: 'error', error: { code: 'not_found', message: 'No such endpoint' } });

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The generated admin token and a first API key, so that the first curl works at once. */
async function printFirstKey(ai: Aipaygent, shared: boolean, adminToken: string, port: number, io: Io): Promise<void> {
  io.out(`admin token (generated; set AIPAYGENT_ADMIN_TOKEN to choose one): ${adminToken}`);
  if (shared) {
    // A shared store keeps its keys: a key made at every start would be a new account every time.
    io.out(`make API keys with: AIPAYGENT_ADMIN_TOKEN=<the token above> aipaygent keys create --url http://localhost:${port}`);
    return;
  }
  let apiKey: string;
  try {
    apiKey = (await ai.api.keys.create({ label: 'first key, printed at start' })).api_key;
  } catch {
    // The store is down (AIPAYGENT_START_WHEN_STORE_DOWN): the server still serves, and answers 503 until it is back.
    io.err(`aipaygent: no first API key: the store does not answer yet; once it does: AIPAYGENT_ADMIN_TOKEN=<the token above> aipaygent keys create --url http://localhost:${port}`);
    return;
  }
  io.out(`first API key: ${apiKey}`);
  io.out(`try: curl -s http://localhost:${port}/memory/store -H "Authorization: Bearer ${apiKey}" ` +
    `-H "Content-Type: application/json" -d '{"user_id":"dev_user_123","key":"hello","data":{"hi":true}}'`);
}

/** Runs until a signal stops it; resolves with the exit code only when it could not start. */
export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const p = parse(SERVE, argv);
  if (p.help) return io.help(SERVE);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`, SERVE.usage);
  const portText = (p.values.port as string | undefined) ?? io.env.PORT;
  const port = portText === undefined || portText === '' ? 3000 : integer(portText, 'port', SERVE.usage, { max: 65535 });
  const options = envOptions(io.env);
  // A newcomer gets a working admin token and API key without configuring anything.
  const generatedToken = options.adminToken ? undefined : `adm_${randomBytes(24).toString('base64url')}`;
  const ai = createAipaygent({ ...options, adminToken: options.adminToken ?? generatedToken });
  await ai.ready.catch(async (error: unknown) => {
    // Whatever did open (metrics, a connection) must not keep the process alive after a failed start.
    await ai.close();
    throw error;
  });
  for (const line of ai.features()) io.out(`  ${line}`);

  const server = createServer((req, res) => {
    ai.handle(nodeRequest(req, res, { ip: req.socket.remoteAddress }))
      .then((out) => writeNodeResponse(res, out ?? NOT_FOUND))
      .catch(() => res.destroy());
  });
  const host = p.values.host as string | undefined;
  await listen(server, port, host).catch(async (error: NodeJS.ErrnoException) => {
    // The store is open: close it, or its connections keep the process from exiting.
    await ai.close();
    const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
    throw new StartupError(`aipaygent: cannot listen on ${host ?? 'every interface'}, port ${port}: ${why} (choose another with --port or PORT)`, error);
  });
  const actual = (server.address() as { port: number }).port;
  io.out(`aipaygent listening on http://localhost:${actual} (store: ${describeStore(options.store)})`);
  if (generatedToken) await printFirstKey(ai, options.store !== undefined && options.store !== 'memory', generatedToken, actual, io);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // Stop accepting. The calls in flight still answer, streams included (ai.close waits up to 10 s),
      // then the store closes; exit once the connections have flushed (2 s at most).
      const flushed = new Promise((resolve) => server.close(resolve));
      void ai.close().then(async () => {
        server.closeIdleConnections();
        await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        process.exit(0);
      });
    });
  }
  return new Promise<number>(() => {}); // serves until a signal
}
