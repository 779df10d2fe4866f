// One load run of a scenario: its server in a child process, autocannon against it (warm-up, then measured).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { PATH, type RequestSpec } from './scenarios.js';
import { scriptArgs } from './script.js';

export const seconds = Number(process.env.BENCH_SECONDS ?? 10);
export const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
export const connections = 50;

async function startScenario(name: string): Promise<{ port: number; headers: Record<string, string>; request?: RequestSpec; stop(): void }> {
  const child = spawn(process.execPath, [...scriptArgs('server'), name], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number; headers: Record<string, string>; request?: RequestSpec };
  return { ...info, stop: () => child.kill('SIGTERM') };
}

export async function load(name: string): Promise<{ rps: number; p50: number; p99: number; non2xx: number }> {
  const s = await startScenario(name);
  try {
    const spec = s.request;
    const url = `http://127.0.0.1:${s.port}${spec ? spec.path : PATH}`;
    let n = 0;
    // Write scenarios: "__N__" in the body becomes a fresh number per request (distinct keys, distinct items).
    const body = spec && spec.method !== 'GET';
    const requests = body && [{ method: spec.method, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: spec.body.replaceAll('__N__', String(n++)) }) }];
    const opts = { url, connections, headers: s.headers, ...(spec && { method: spec.method }), ...(body && { body: spec.body, requests }) } as autocannon.Options;
    // Warm-up: JIT and connection pools, not measured.
    await autocannon({ ...opts, duration: 2 });
    const r = await autocannon({ ...opts, duration: seconds });
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
  } finally {
    s.stop();
  }
}

