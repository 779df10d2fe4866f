// Runs the aipaygent CLI as a user meets it: `run()` in process with a capturing Io, or the real bin (src/cli/main.ts) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { helpText } from '../../src/cli/args.js';
import type { Io } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';

/** What one command line printed and its exit code. */
export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** `run(argv)` in this process; `env` is the whole environment the command sees (nothing inherited). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    env,
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    help: (spec) => {
      out.push(helpText(spec));
      return 0;
    },
  };
  const code = await run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** This process's environment without any aipaygent or Anthropic setting, so that a child sees only what a test gives it. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AIPAYGENT_|ANTHROPIC_|PORT$)/.test(k)));
  return { ...base, ...env };
}

const BIN = ['--import', 'tsx', 'src/cli/main.ts'];

/** The real bin in a child process, to its exit. */
export function spawnCli(argv: string[], env: Record<string, string> = {}): Promise<Ran> {
  const child = spawn(process.execPath, [...BIN, ...argv], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Served {
  url: string;
  child: ChildProcess;
  /** stdout and stderr, line by line, as they arrive. */
  out: string[];
  err: string[];
  stop(): Promise<void>;
}

/** `aipaygent serve` in a child process: resolves once it prints its listening line; rejects with its output if it exits first. */
export async function startServe(env: Record<string, string>, args: string[] = []): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [...BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], {
    env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => err.push(line));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      out.push(line);
      if (line.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out.join('\n')}\n${err.join('\n')}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`, child, out, err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A temporary directory for SQLite files, removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'apg-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The JSON a `--json` command printed (its only stdout line). */
export function parsedJson(ran: Ran): any {
  return JSON.parse(ran.out);
}
