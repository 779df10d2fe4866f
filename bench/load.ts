// One load run of a scenario: its server in a child process, autocannon against it (warm-up, then measured).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { PATH, type RequestSpec } from './scenarios.js';
import { scriptArgs } from './script.js';

export const seconds = Number(process.env.BENCH_SECONDS ?? 10);
export const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
export const connections = 50;

/** CPU milliseconds used so far by process `pid` (utime + stime, in clock ticks of 10 ms; Linux). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function startScenario(name: string): Promise<{ port: number; pid: number; headers: Record<string, string>; request?: RequestSpec; stop(): void }> {
  const child = spawn(process.execPath, [...scriptArgs('server'), name], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number; headers: Record<string, string>; request?: RequestSpec };
  return { ...info, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

/**
 * One measured run: requests per second, latency, and the server's CPU per request (user + system time of its
 * process over the requests served: on a shared machine it moves far less than requests per second do).
 */
export async function load(name: string): Promise<{ rps: number; p50: number; p99: number; non2xx: number; cpuUsPerRequest: number }> {
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
    const c0 = cpuMs(s.pid);
    const r = await autocannon({ ...opts, duration: seconds });
    const cpuUsPerRequest = ((cpuMs(s.pid) - c0) * 1000) / r.requests.total;
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, cpuUsPerRequest };
  } finally {
    s.stop();
  }
}

