// `aipaygent serve`: aipaygent alone on node:http, configured by environment variables (the README's table).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createAipaygent } from '../create.js';
import { optionsFromEnv } from '../env.js';
import { nodeRequest, writeNodeResponse } from '../http/node.js';
import { json } from '../http/respond.js';
import { integer, parse, UsageError, type CommandSpec } from './args.js';
import type { Io } from './io.js';

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

/** Runs until a signal stops it; resolves with the exit code only when it could not start. */
export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const p = parse(SERVE, argv);
  if (p.help) return io.help(SERVE);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`, SERVE.usage);
  const portText = (p.values.port as string | undefined) ?? io.env.PORT;
  const port = portText === undefined || portText === '' ? 3000 : integer(portText, 'port', SERVE.usage);
  const options = optionsFromEnv(io.env);
  // A newcomer gets a working admin token and API key without configuring anything.
  const generatedToken = options.adminToken ? undefined : `adm_${randomBytes(24).toString('base64url')}`;
  const ai = createAipaygent({ ...options, adminToken: options.adminToken ?? generatedToken });
  await ai.ready;
  for (const line of ai.features()) io.out(`  ${line}`);

  const server = createServer((req, res) => {
    ai.handle(nodeRequest(req, res, { ip: req.socket.remoteAddress }))
      .then((out) => writeNodeResponse(res, out ?? NOT_FOUND))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, p.values.host as string | undefined, resolve);
  });
  const actual = (server.address() as { port: number }).port;
  io.out(`aipaygent listening on http://localhost:${actual} (store: ${ai.features()[1]!.replace(/^store: /, '')})`);
  if (generatedToken) {
    const first = await ai.api.keys.create({ label: 'first key, printed at start' });
    io.out(`admin token (generated; set AIPAYGENT_ADMIN_TOKEN to choose one): ${generatedToken}`);
    io.out(`first API key: ${first.api_key}`);
    io.out(`try: curl -s http://localhost:${actual}/memory/store -H "Authorization: Bearer ${first.api_key}" ` +
      `-H "Content-Type: application/json" -d '{"user_id":"dev_user_123","key":"hello","data":{"hi":true}}'`);
  }

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
