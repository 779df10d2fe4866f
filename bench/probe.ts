// Where a mounted request's cost goes: requests per second AND the server's CPU time per request.
// Run: npx tsx bench/probe.ts <scenario> [<scenario>...]   (S=seconds, default 5; C=connections, default 50)
// e.g. npx tsx bench/probe.ts koa-bare koa-stub koa-retrieve ; BURN_US=20 npx tsx bench/probe.ts koa-burn
// PROFILE=1: the server's main thread is also profiled over the measured window (V8 sampler every 50 µs; it adds
// its own cost, so read the shares, not the absolute µs), summarized per request (bench/cpu-profile.ts);
// PROFILE_KEEP=<dir> keeps the .cpuprofile files there.
// CPU per request is user+system time of the server process (all its threads, GC included) over the
// requests served, read from /proc (Linux). Requests/s alone hides whether a server is busy or waiting.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { summarize, type Profile } from './cpu-profile.js';
import { PATH } from './scenarios.js';
import { scriptArgs } from './script.js';

/** CPU milliseconds used so far by process `pid` (utime + stime, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const seconds = Number(process.env.S ?? 5);
const connections = Number(process.env.C ?? 50);
const profileDir = process.env.PROFILE ? (process.env.PROFILE_KEEP ?? mkdtempSync(join(tmpdir(), 'apg-probe-'))) : undefined;
for (const name of process.argv.slice(2)) {
  const profileFile = profileDir && join(profileDir, `${name}-${Date.now()}.cpuprofile`);
  const env = { ...process.env, NODE_ENV: 'production', ...(profileFile && { BENCH_PROFILE_FILE: profileFile }) };
  const child = spawn(process.execPath, [...scriptArgs('server'), name], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve) => lines.once('line', resolve));
  const { port, headers } = JSON.parse(line) as { port: number; headers: Record<string, string> };
  const opts = { url: `http://127.0.0.1:${port}${PATH}`, connections, headers };
  await autocannon({ ...opts, duration: 2 }); // warm-up
  if (profileFile) child.kill('SIGUSR2');
  const [c0, t0] = [cpuMs(child.pid!), Date.now()];
  const r = await autocannon({ ...opts, duration: seconds });
  const [c1, t1] = [cpuMs(child.pid!), Date.now()];
  if (profileFile) {
    const written = new Promise((resolve) => lines.once('line', resolve));
    child.kill('SIGUSR2');
    await written;
  }
  child.kill('SIGTERM');
  const busy = ((c1 - c0) / (t1 - t0)) * 100;
  const perRequest = ((c1 - c0) * 1000) / r.requests.total;
  console.log(`${name}: ${Math.round(r.requests.average)} req/s, server CPU ${busy.toFixed(0)}%, ${perRequest.toFixed(1)} µs CPU per request, p50 ${r.latency.p50} ms, non-2xx ${r.non2xx}`);
  if (profileFile) console.log(summarize(JSON.parse(readFileSync(profileFile, 'utf8')) as Profile, r.requests.total, Number(process.env.TOP ?? 30)).join('\n'));
}
process.exit(0);
