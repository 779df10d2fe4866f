// Claude proxy vs calling the fake upstream directly, side by side with the floor (a bare pass-through) and the Portkey gateway:
// added latency, added time to first byte, proxy CPU per call, memory per open stream.
// Run: npx tsx bench/claude-proxy.ts [--profile]. The fake, aipaygent and each peer run in their own child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuMs, portkeyScript, runFloor, startPortkey } from './proxy-peers.js';
import { machine, writeSection } from './report.js';
import { scriptArgs } from './script.js';

const MODEL = 'claude-3-5-sonnet-20241022';
const N_JSON = Number(process.env.BENCH_CLAUDE_N ?? 2000);
const N_STREAM = N_JSON;
const WARMUP = 100;
const OPEN_STREAMS = 1000;
/** Streams with this `metadata.user_id` are held open by the fake after their first frames, until released. */
const HOLD = 'bench-hold';

// ---- child: the fake Anthropic upstream ----
async function runFake(): Promise<void> {
  const { answer, message, startFakeAnthropic, streamFrames } = await import('../test/support/fake-anthropic.js');
  const fake = await startFakeAnthropic();
  const held: Array<{ res: ServerResponse; rest: string[] }> = [];
  fake.setDefault((req, res) => {
    fake.requests.length = 0; // nothing inspects them here; don't let them pile up
    if (req.body?.stream !== true || req.body?.metadata?.user_id !== HOLD) return answer(req, res);
    const frames = streamFrames(message({ model: req.body.model }), ['Hello', ' held', ' stream.']);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_hold${held.length}` });
    res.write(frames.slice(0, 2).join(''));
    held.push({ res, rest: frames.slice(2) });
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'held') process.send!({ held: held.length });
    if (m.cmd === 'release') {
      const n = held.length;
      for (const { res, rest } of held.splice(0)) if (!res.destroyed) res.end(rest.join(''));
      process.send!({ released: n });
    }
  });
  process.stdout.write(JSON.stringify({ url: fake.url }) + '\n');
  process.once('SIGTERM', () => void fake.close().then(() => process.exit(0)));
}

// ---- child: aipaygent with the Claude proxy pointed at the fake ----
async function runServer(fakeUrl: string): Promise<void> {
  const { createAipaygent } = await import('../src/create.js');
  const { nodeRequest, writeNodeResponse } = await import('../src/http/node.js');
  const ai = createAipaygent({
    store: 'memory', adminToken: 'bench-admin-token-0123456789', freeCallsPerDay: 0,
    claude: { apiKey: 'sk-ant-bench', baseURL: fakeUrl, maxRetries: 0 },
  });
  await ai.ready;
  const created = await ai.api.keys.create();
  await ai.api.ledger.grant({ accountId: created.account_id, amountMicroUsd: 1_000_000_000_000, reason: 'bench' });
  const server = createServer((req, res) => void ai.handle(nodeRequest(req, res, {})).then((out) => writeNodeResponse(res, out!)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 2048, r));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'memory') return;
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.send!({ rss, heapUsed, external, arrayBuffers });
  });
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port, key: created.api_key }) + '\n');
  // A normal exit, so that --cpu-prof writes its profile.
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void ai.close().then(() => process.exit(0)));
  });
}

// ---- the measuring process ----
interface Child { proc: ChildProcess; info: any; ask(cmd: string): Promise<any>; stop(): Promise<void> }

async function start(args: string[], nodeFlags: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeFlags, ...scriptArgs('claude-proxy'), ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return {
    proc, info: JSON.parse(line),
    ask: (cmd) => new Promise((resolve) => { proc.once('message', resolve); proc.send({ cmd }); }),
    stop: () => new Promise((resolve) => { if (proc.exitCode !== null) return resolve(); proc.once('exit', () => resolve()); proc.kill('SIGTERM'); }),
  };
}

interface Timing { ttfb: number; total: number; status: number; body: string }

/** One POST; times in ms from the request to the first body byte and to the end. */
function post(agent: Agent, port: number, key: string, body: unknown, onFirstByte?: () => void, extra: Record<string, string> = {}): Promise<Timing> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfb = 0;
    const req = request({ host: '127.0.0.1', port, path: '/v1/messages', method: 'POST', agent, headers: {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-api-key': key, 'anthropic-version': '2023-06-01', ...extra,
    } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (!ttfb) { ttfb = performance.now() - t0; onFirstByte?.(); }
        text += c;
      });
      res.on('end', () => resolve({ ttfb, total: performance.now() - t0, status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const q = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const ms = (x: number): string => x.toFixed(3);

/** A way to reach the fake: directly, or through one of the proxies. */
interface Target { name: string; pid: number | undefined; send(body: unknown): Promise<Timing> }

interface Stats { name: string; p50: number; p99: number; add50: number; add99: number; cpuPerCall: number }

/**
 * Sequential rounds: each round calls the fake directly and through every proxy once, one after the
 * other, the order rotating from round to round; warm-up rounds dropped. "Added" is the distribution of
 * per-round differences (proxied − direct of the same round). CPU: each proxy process's user + system
 * time over the measured rounds, per call.
 */
async function rounds(n: number, body: Record<string, unknown>, pick: (t: Timing) => number, direct: Target, proxies: Target[]): Promise<{ direct: { p50: number; p99: number }; stats: Stats[] }> {
  const all = [direct, ...proxies];
  const times = all.map(() => [] as number[]);
  const cpu0 = new Map<Target, number>();
  for (let i = 0; i < n + WARMUP; i++) {
    if (i === WARMUP) for (const t of proxies) cpu0.set(t, t.pid === undefined ? NaN : cpuMs(t.pid));
    for (let j = 0; j < all.length; j++) {
      const k = (i + j) % all.length;
      const t = await all[k]!.send(body);
      if (t.status !== 200) throw new Error(`${all[k]!.name}: status ${t.status}: ${t.body.slice(0, 300)}`);
      if (body.stream && all[k]!.name === 'aipaygent' && !t.body.includes('aipaygent-cost-micro-usd=')) throw new Error('proxied stream without its cost line');
      if (i >= WARMUP) times[k]!.push(pick(t));
    }
  }
  const d = times[0]!;
  const stats = proxies.map((t, i) => {
    const p = times[i + 1]!;
    const diff = p.map((x, r) => x - d[r]!);
    const cpu = t.pid === undefined ? NaN : (cpuMs(t.pid) - cpu0.get(t)!) / n;
    return { name: t.name, p50: q(p, 0.5), p99: q(p, 0.99), add50: q(diff, 0.5), add99: q(diff, 0.99), cpuPerCall: cpu };
  });
  return { direct: { p50: q(d, 0.5), p99: q(d, 0.99) }, stats };
}

/**
 * Seconds of quiet before measuring (BENCH_SETTLE_SECONDS). Sub-millisecond latencies on a shared VM move
 * with whatever ran just before (after minutes of full load both direct and proxied calls run slower for a
 * while), which is also why `npm run bench` runs this benchmark first.
 */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 10);

async function main(profile: boolean): Promise<void> {
  await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
  const fake = await start(['fake']);
  const profDir = mkdtempSync(join(tmpdir(), 'apg-prof-'));
  const server = await start(['server', fake.info.url], profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : ['--expose-gc']);
  const fakePort = Number(new URL(fake.info.url).port);
  const { port, key } = server.info as { port: number; key: string };
  const agent = () => new Agent({ keepAlive: true, maxSockets: 1 });
  const agents = [agent(), agent(), agent(), agent()];
  const small = { model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };
  const stream = { ...small, stream: true };
  const floor = profile ? undefined : await start(['floor', fake.info.url]);
  const script = profile ? undefined : portkeyScript();
  const portkey = script ? await startPortkey(script) : undefined;
  if (!profile && !portkey) console.log('@portkey-ai/gateway is not installed: measuring without it (npm install it to compare)');
  const direct: Target = { name: 'direct', pid: undefined, send: (b) => post(agents[0]!, fakePort, 'sk-ant-bench', b) };
  const proxies: Target[] = [
    { name: 'aipaygent', pid: server.proc.pid, send: (b) => post(agents[1]!, port, key, b) },
    ...(floor ? [{ name: 'floor', pid: floor.proc.pid, send: (b: unknown) => post(agents[2]!, floor.info.port, 'sk-ant-bench', b) }] : []),
    ...(portkey ? [{
      name: 'portkey', pid: portkey.proc.pid,
      send: (b: unknown) => post(agents[3]!, portkey.port, 'sk-ant-bench', b, undefined, { 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `${fake.info.url}/v1` }),
    }] : []),
  ];
  try {
    if (profile) {
      for (let i = 0; i < 2000; i++) await post(agents[1]!, port, key, small);
      await server.stop();
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
      console.log(topCosts(JSON.parse(readFileSync(join(profDir, file), 'utf8'))).join('\n'));
      return;
    }
    const load0 = loadavg()[0]!;
    const plain = await rounds(N_JSON, small, (t) => t.total, direct, proxies);
    console.log('non-streaming', plain);
    const sse = await rounds(N_STREAM, stream, (t) => t.ttfb, direct, proxies);
    console.log('streaming ttfb', sse);

    // Memory: open streams in batches (each counted open when its first byte arrived), sample, release, check.
    const before = await server.ask('memory');
    const manyAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const hold = { ...stream, metadata: { user_id: HOLD } };
    const done: Array<Promise<Timing>> = [];
    for (let i = 0; i < OPEN_STREAMS; i += 50) {
      const firsts: Array<Promise<void>> = [];
      for (let j = i; j < Math.min(OPEN_STREAMS, i + 50); j++) {
        let first!: () => void;
        firsts.push(new Promise<void>((r) => (first = r)));
        done.push(post(manyAgent, port, key, hold, first));
      }
      await Promise.all(firsts);
    }
    const { held } = await fake.ask('held');
    const open = await server.ask('memory');
    const { released } = await fake.ask('release');
    const results = await Promise.all(done);
    const complete = results.filter((r) => r.status === 200 && r.body.includes('message_stop') && r.body.includes('aipaygent-cost-micro-usd=')).length;
    const after = await server.ask('memory');
    manyAgent.destroy();
    const load1 = loadavg()[0]!;
    console.log({ held, released, complete, before, open, after });
    report(plain, sse, { before, open, after, held, complete }, [load0, load1]);
  } finally {
    for (const a of agents) a.destroy();
    portkey?.proc.kill('SIGTERM');
    await Promise.all([server.stop(), fake.stop(), floor?.stop()]);
    if (!process.env.BENCH_KEEP_PROFILE) rmSync(profDir, { recursive: true, force: true });
    else console.log(`profile kept in ${profDir}`);
  }
}

/** Self time of a V8 .cpuprofile grouped by package or file (idle excluded; module loading at startup included), top 15. */
function topCosts(prof: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>; samples: number[]; timeDeltas: number[] }): string[] {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const name = !url ? functionName : pkg ?? url.replace(/^.*\/work\/main\//, '').replace(/^node:internal\//, 'node:');
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([n, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${n}`);
}

type Run = Awaited<ReturnType<typeof rounds>>;
type Mem = { rss: number; heapUsed: number; external: number; arrayBuffers: number };

function report(plain: Run, sse: Run, mem: { before: Mem; open: Mem; after: Mem; held: number; complete: number }, load: [number, number]): void {
  const mb = (b: number) => (b / 1048576).toFixed(1);
  const per = (k: keyof Mem) => ((mem.open[k] - mem.before[k]) / 1024 / OPEN_STREAMS).toFixed(1);
  const rows = (what: string, run: Run) => {
    const floor = run.stats.find((s) => s.name === 'floor');
    return run.stats.map((s) => {
      const ratio = floor ? (s.add50 / floor.add50).toFixed(2) : '–';
      const target = s.name === 'aipaygent' && floor ? ` ${s.add50 <= 1.5 * floor.add50 ? '✅' : '❌'} (target ≤ 1.5)` : '';
      return `| ${what} | ${s.name} | ${ms(s.p50)} / ${ms(s.p99)} | **${ms(s.add50)}** / ${ms(s.add99)} | ${ratio}${target} | ${Number.isNaN(s.cpuPerCall) ? '–' : s.cpuPerCall.toFixed(2)} |`;
    });
  };
  const md = [
    `Command: \`npm run bench\` (its first step, on the tsc output; \`npx tsx bench/claude-proxy.ts\` runs it alone from the sources; \`BENCH_CLAUDE_N\` sets N). The fake Anthropic upstream (\`test/support/fake-anthropic.ts\`, answering at once), aipaygent (bare node:http core bridge, in-memory store, paid account with credit: every call reserves, then settles), the floor (\`bench/proxy-peers.ts\`: a ~20-line node:http pass-through with a keep-alive agent, no parsing, no auth, no billing) and the Portkey gateway (\`@portkey-ai/gateway\`, its own server, headless, provider anthropic with the fake as custom host; a preload gives it mutable response headers, without which every stream fails on Node 20) each run in their own child process; the measuring process only sends requests.`,
    `After ${SETTLE_SECONDS} s of quiet, sequential requests over one keep-alive connection per target; each round calls the fake directly and through every proxy once, the order rotating; ${WARMUP} warm-up rounds dropped. "Added" is the distribution of per-round differences (proxied − direct of the same round); "× floor" is added p50 over the floor's added p50. CPU: user + system time of the proxy's process over the measured rounds (/proc, 10 ms ticks), per call.`,
    `Machine: ${machine()}, shared with other work. Load average (1 min) ${load[0].toFixed(2)} at the start, ${load[1].toFixed(2)} at the end. Run: ${new Date().toISOString()}.`,
    '',
    `Direct call: ${ms(plain.direct.p50)} / ${ms(plain.direct.p99)} ms (p50 / p99) non-streaming, first byte of a stream ${ms(sse.direct.p50)} / ${ms(sse.direct.p99)} ms.`,
    '',
    '| measure | proxy | proxied p50 / p99 (ms) | added p50 / p99 (ms) | × floor | CPU per call (ms) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows(`POST /v1/messages, non-streaming, N=${N_JSON}: full response`, plain),
    ...rows(`\`stream: true\`, N=${N_STREAM}: first body byte`, sse),
    '',
    `Memory: ${OPEN_STREAMS} concurrent streams held open through aipaygent (the fake sends message_start and content_block_start, then holds until released; ${mem.held} held upstream). aipaygent process after a forced GC:`,
    '',
    '| | before | at ' + OPEN_STREAMS + ' open | per open stream | after release |',
    '|---|---:|---:|---:|---:|',
    `| RSS | ${mb(mem.before.rss)} MB | ${mb(mem.open.rss)} MB (+${mb(mem.open.rss - mem.before.rss)} MB) | **${per('rss')} KB** | ${mb(mem.after.rss)} MB |`,
    `| V8 heap used | ${mb(mem.before.heapUsed)} MB | ${mb(mem.open.heapUsed)} MB | ${per('heapUsed')} KB | ${mb(mem.after.heapUsed)} MB |`,
    `| external (buffers) | ${mb(mem.before.external)} MB | ${mb(mem.open.external)} MB | ${per('external')} KB | ${mb(mem.after.external)} MB |`,
    '',
    `Released: ${mem.complete} of ${OPEN_STREAMS} streams completed with message_stop and their cost line. RSS is not given back to the OS after release; the heap is.`,
    '',
    'Where the proxied time goes: `npx tsx bench/claude-proxy.ts --profile` (2,000 proxied calls under `--cpu-prof`, self time by package or file).',
  ].join('\n');
  console.log(md);
  writeSection('claude', 'Claude proxy: added latency, CPU and memory, beside the floor and Portkey', md);
}

const [role, arg] = process.argv.slice(2);
if (role === 'fake') await runFake();
else if (role === 'floor') await runFloor(arg!);
else if (role === 'server') await runServer(arg!);
else await main(role === '--profile');
