// Store servers a test starts for itself (so it may freeze, kill or cut them): redis-server and a throwaway Postgres cluster.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server of the test's own: `freeze` stops it answering (SIGSTOP: sockets stay open), `thaw` resumes it. */
export interface OwnServer {
  port: number;
  /** URL of the server itself (not through any proxy). */
  url: string;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether the tests needing it may run: a missing binary skips them with a notice, or fails with REQUIRE_BACKENDS=1. */
function available(what: string, found: boolean): boolean {
  if (found) return true;
  if (process.env.REQUIRE_BACKENDS === '1') throw new Error(`${what} is not installed; REQUIRE_BACKENDS=1 forbids skipping`);
  console.warn(`${what} is not installed: skipping the tests that start their own server`);
  return false;
}

export const canStartRedis = (): boolean => available('redis-server', spawnSync('redis-server', ['--version']).status === 0);

/** True once something answers PING on the port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/** A redis-server without persistence on `port` (default: a free one). */
export async function startOwnRedis(port?: number): Promise<OwnServer> {
  port ??= await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  child.on('error', () => {});
  for (let i = 0; i < 100 && !(await pings(port)); i++) await sleep(50);
  const signal = async (s: NodeJS.Signals) => void child.kill(s);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The newest installed Postgres server binaries (Debian layout), or null. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((x, y) => Number(y) - Number(x));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export const canStartPostgres = (): boolean => available('PostgreSQL server (under /usr/lib/postgresql)', postgresBin() !== null);

/** A throwaway Postgres cluster (initdb in a temp dir, trust auth, fsync off) on a free port. */
export async function startOwnPostgres(): Promise<OwnServer> {
  const bin = postgresBin()!;
  // The server refuses to run as root: as root, its tools run as the postgres user.
  const asServerUser = (tool: string, args: string[]) =>
    process.getuid?.() === 0 ? exec('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : exec(join(bin, tool), args);
  const dir = mkdtempSync(join(tmpdir(), 'apg-pg-own-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) chownSync(dir, Number((await exec('id', ['-u', 'postgres'])).stdout), Number((await exec('id', ['-g', 'postgres'])).stdout));
  await asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const pgCtl = (...args: string[]) => asServerUser('pg_ctl', ['-D', data, ...args]);
  await pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start');
  let frozen: string[] = [];
  const thaw = async () => {
    if (frozen.length > 0) await exec('kill', ['-CONT', ...frozen]).catch(() => {});
    frozen = [];
  };
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    thaw,
    async freeze() {
      // The postmaster and every backend: sockets stay open but nothing answers, like a hung host.
      const postmaster = (await exec('head', ['-n', '1', join(data, 'postmaster.pid')])).stdout.trim();
      const children = (await exec('ps', ['-o', 'pid=', '--ppid', postmaster])).stdout.split(/\s+/).filter(Boolean);
      frozen = [postmaster, ...children];
      await exec('kill', ['-STOP', ...frozen]);
    },
    async stop() {
      await thaw();
      await pgCtl('-m', 'immediate', 'stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
