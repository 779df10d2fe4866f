// Starts `npm start`'s server (`aipaygent serve`, src/cli/main.ts) as a child process on a free port, for multi-process tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface Standalone {
  url: string;
  child: ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Resolves once the server prints "listening on"; rejects with its output if it exits first. */
export async function startStandalone(env: Record<string, string>): Promise<Standalone> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`standalone exited with ${code}: ${lines.join('\n')}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    lines,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
