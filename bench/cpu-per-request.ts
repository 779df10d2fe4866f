// CPU per request of a scenario's server, measured in ONE thread: the server and a minimal client (raw
// keep-alive sockets, one request in flight on each) share the process, and process.cpuUsage() counts only
// this thread's own time. On a shared, loaded machine that moves far less than requests per second or
// the server's /proc time under autocannon do (neither preemption nor another process's load is counted).
// The client's part (a constant write and a scan per response) is the same for every scenario: compare differences.
// Run: npm run bench:build && node .bench/bench/cpu-per-request.js <scenario>... (S=seconds per run, default 3;
// ROUNDS=rounds, default 3; C=connections, default 50). Each scenario runs in its own process, rounds alternated.
import { spawn } from 'node:child_process';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PATH, scenarios } from './scenarios.js';

const seconds = Number(process.env.S ?? 3);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = Number(process.env.C ?? 50);

/** In the child: serve `name`, load it from this same thread, print µs of CPU per request. */
async function measure(name: string): Promise<void> {
  const scenario = await scenarios[name]!();
  await new Promise<void>((resolve) => scenario.server.listen(0, '127.0.0.1', resolve));
  const { port } = scenario.server.address() as AddressInfo;
  const head = Object.entries(scenario.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const request = Buffer.from(`GET ${PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${head}\r\n`);
  let answered = 0;
  let failed = 0;
  let running = true;
  const sockets = Array.from({ length: connections }, () => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // Each response starts with its status line; the bodies never contain one.
      for (let at = chunk.indexOf('HTTP/1.1 '); at !== -1; at = chunk.indexOf('HTTP/1.1 ', at + 9)) {
        answered++;
        if (chunk[at + 9] !== 0x32) failed++; // not 2xx
        if (running) socket.write(request);
      }
    });
    socket.write(request);
    return socket;
  });
  const window = async (ms: number) => {
    const [a0, c0] = [answered, process.cpuUsage()];
    await new Promise((r) => setTimeout(r, ms));
    const c = process.cpuUsage(c0);
    return { requests: answered - a0, cpuUs: c.user + c.system, ms };
  };
  await window(1000); // warm-up
  const w = await window(seconds * 1000);
  running = false;
  for (const s of sockets) s.destroy();
  scenario.server.close();
  await scenario.close();
  process.stdout.write(`${JSON.stringify({ name, ...w, failed, usPerRequest: w.cpuUs / w.requests })}\n`);
  process.exit(0);
}

function runChild(name: string): Promise<{ name: string; requests: number; usPerRequest: number; failed: number; ms: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', name], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited with ${code}`)))));
}

if (process.argv[2] === '--child') await measure(process.argv[3]!);
else {
  const names = process.argv.slice(2);
  const all = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const m = await runChild(name);
      if (m.failed > 0) throw new Error(`${name}: ${m.failed} non-2xx answers`);
      all.get(name)!.push(m.usPerRequest);
      console.log(`  round ${r + 1} ${name}: ${m.usPerRequest.toFixed(2)} µs CPU per request (${Math.round((m.requests * 1000) / m.ms)} req/s in one thread)`);
    }
  }
  for (const [name, xs] of all) {
    const sorted = [...xs].sort((a, b) => a - b);
    // Interference only ever adds time: the least of the rounds is the nearest to the code's own cost.
    console.log(`${name}: least ${sorted[0]!.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs CPU per request (server + client in one thread), rounds ${xs.map((x) => x.toFixed(2)).join(' / ')}`);
  }
}
