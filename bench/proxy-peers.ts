// The peers of the Claude proxy bench: the floor (a bare node:http pass-through) and the Portkey gateway, plus per-process CPU from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The floor: what any proxy must do at least (accept, open a keep-alive request upstream, copy the
 * bytes both ways), with no parsing, no auth and no billing. Run as `floor <upstream url>`.
 */
export async function runFloor(upstream: string): Promise<void> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 2048, r));
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/** Where the Portkey gateway's server script is, or undefined when `@portkey-ai/gateway` is not installed. */
export function portkeyScript(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
  } catch {
    return undefined;
  }
}

/**
 * Portkey 1.15 on Node 20 fails every streamed /v1/messages call (500 "Something went wrong": it appends
 * its x-portkey-* headers to the upstream fetch Response, whose headers are immutable). This preload
 * hands it a Response with a mutable copy of the headers, which is what it expects; it costs a copy of
 * a dozen headers per call.
 */
const PORTKEY_SHIM = `const f = globalThis.fetch;
globalThis.fetch = async (...a) => { const r = await f(...a); return new Response(r.body, { status: r.status, statusText: r.statusText, headers: new Headers(r.headers) }); };
`;

/** A free TCP port (asked of the OS, then released: Portkey takes a --port=). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts the Portkey gateway (its own `start-server.js`, headless, production) and waits until it answers. */
export async function startPortkey(script: string): Promise<{ proc: ChildProcess; port: number }> {
  const shim = join(tmpdir(), 'apg-portkey-shim.mjs');
  writeFileSync(shim, PORTKEY_SHIM);
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', shim, script, `--port=${port}`, '--headless'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => { res.resume(); resolve(true); });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) return { proc, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGTERM');
  throw new Error('the Portkey gateway did not start');
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 Hz on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
