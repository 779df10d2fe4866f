// `node .bench/bench/mcp.js` (in `npm run bench`): tools/call memory_retrieve vs GET /memory/retrieve on the same Express 5 mount and
// in-memory store, over HTTP side by side (alternated), then in process (`ai.handle`) with the parts of the MCP path timed apart.
import { cpus, loadavg } from 'node:os';
import { createAipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import { connections, load, rounds, seconds } from './load.js';
import { machine, writeSection } from './report.js';
import { DATA, MCP_HEADERS, MCP_RETRIEVE } from './scenarios.js';

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// Over HTTP: the same mount and store, the two calls alternated so drift hits both alike.
const http: number[] = [];
const mcp: number[] = [];
const httpCpu: number[] = [];
const mcpCpu: number[] = [];
let last = { http: { p50: 0, p99: 0 }, mcp: { p50: 0, p99: 0 } };
for (let round = 0; round < rounds; round++) {
  const h = await load('mcp-mount-http-retrieve');
  const m = await load('mcp-mount-tool-retrieve');
  if (h.non2xx || m.non2xx) throw new Error('a non-2xx answer: the benchmark is invalid');
  http.push(h.rps);
  mcp.push(m.rps);
  httpCpu.push(h.cpuUsPerRequest);
  mcpCpu.push(m.cpuUsPerRequest);
  last = { http: h, mcp: m };
  console.log(
    `  round ${round + 1}: GET ${Math.round(h.rps)} vs tools/call ${Math.round(m.rps)} req/s (${((m.rps / h.rps) * 100).toFixed(1)}%); ` +
      `server CPU ${h.cpuUsPerRequest.toFixed(1)} vs ${m.cpuUsPerRequest.toFixed(1)} µs per request`,
  );
}
/** The median of the rounds' own ratios: one round disturbed by another process's burst moves it least. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(mcp.map((m, i) => m / http[i]!));
/** What the server could serve when CPU-bound, from its CPU per request: the figure a busy shared machine disturbs least. */
const cpuRatio = median(mcpCpu.map((m, i) => httpCpu[i]! / m));
const rounds_ = mcp.map((m, i) => `${((m / http[i]!) * 100).toFixed(0)}% / ${((httpCpu[i]! / mcpCpu[i]!) * 100).toFixed(0)}%`).join(', ');

// In process: µs per ai.handle call (50 in flight), and what the MCP path adds, part by part.
const ai = createAipaygent({ freeCallsPerDay: 1_000_000 });
await ai.ready;
const { api_key, account_id } = await ai.api.keys.create();
await ai.api.memory.put(account_id, { userId: 'dev_user_123', key: 'coding_preferences', data: DATA, ttlDays: 365 }, Date.now());
const signal = new AbortController().signal;
const auth = { authorization: `Bearer ${api_key}` };
const get = (): CoreRequest => ({ method: 'GET', path: '/memory/retrieve', query: 'user_id=dev_user_123&key=coding_preferences', headers: auth, body: { kind: 'none' }, signal });
const parsed = JSON.parse(MCP_RETRIEVE) as unknown;
const tool = (): CoreRequest => ({ method: 'POST', path: '/mcp', query: '', headers: { ...auth, ...MCP_HEADERS }, body: { kind: 'parsed', value: structuredClone(parsed) }, signal });
const answer = await ai.handle(tool());
if (answer?.status !== 200 || JSON.parse(String(answer.body)).result?.isError) throw new Error(`tools/call failed: ${String(answer?.body)}`);

async function perCall(make: () => CoreRequest, calls = 40_000): Promise<number> {
  const best: number[] = [];
  for (let r = 0; r < 5; r++) {
    let started = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (started++ < calls) if ((await ai.handle(make()))?.status !== 200) throw new Error('call failed');
    }));
    best.push(Number(process.hrtime.bigint() - t0) / calls / 1000);
  }
  return best.slice(2).sort((a, b) => a - b)[1]!;
}
const getUs = await perCall(get);
const toolUs = await perCall(tool);

/** µs per call of `f`, median of 3 runs of 100k. */
function micro(f: () => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) f();
    runs.push(Number(process.hrtime.bigint() - t0) / 100_000 / 1000);
  }
  return runs.sort((a, b) => a - b)[1]!;
}
const types = await import('@modelcontextprotocol/sdk/types.js');
const result = JSON.parse(String(answer.body)).result as unknown;
const text = JSON.stringify((result as { structuredContent: unknown }).structuredContent);
const parts = {
  'tools/call request check (the SDK\'s CallToolRequestSchema)': micro(() => types.CallToolRequestSchema.safeParse(parsed)),
  "the route's answer parsed into structuredContent": micro(() => JSON.parse(text)),
  'JSON-RPC answer serialized': micro(() => JSON.stringify({ jsonrpc: '2.0', id: 1, result })),
  // What the SDK Server's own tools/call path would add (not taken, see src/mcp/sdk-server.ts): its message type guards and result check.
  "(not paid) the Server path's type guards and result check": micro(() => {
    types.isJSONRPCResultResponse(parsed);
    types.isJSONRPCErrorResponse(parsed);
    types.isJSONRPCRequest(parsed);
    types.CallToolRequestSchema.safeParse(parsed);
    types.CallToolResultSchema.safeParse(result);
  }),
};
await ai.close();

const fmt = (n: number) => n.toFixed(2);
const line =
  `| tools/call memory_retrieve (POST /mcp) vs GET /memory/retrieve, one Express 5 mount, in-memory store | ${Math.round(avg(http))} | ${Math.round(avg(mcp))} | **${(ratio * 100).toFixed(1)}%** ` +
  `| ${avg(httpCpu).toFixed(1)} / ${avg(mcpCpu).toFixed(1)} µs: **${(cpuRatio * 100).toFixed(1)}%** | ≥ 70% of HTTP ${ratio >= 0.7 ? '✅' : '❌'} (req/s), ${cpuRatio >= 0.7 ? '✅' : '❌'} (CPU) | p50 ${last.mcp.p50} ms / p99 ${last.mcp.p99} ms |`;
console.log(line);
console.log(`ai.handle: GET ${fmt(getUs)} µs, tools/call ${fmt(toolUs)} µs per call; parts: ${Object.entries(parts).map(([k, v]) => `${k} ${fmt(v)} µs`).join('; ')}`);
writeSection('mcp', 'MCP: a tool call vs its HTTP route', [
  `Load average (1 min) at the end: ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores. ` +
  `Command: \`npm run bench\` (bench/mcp.ts: autocannon, ${connections} connections, ${seconds} s per run after a 2 s warm-up, the two alternated ${rounds} times; one server process per run, the tsc output). Machine: ${machine()}. Run: ${new Date().toISOString()}.`,
  '',
  '| pair | GET req/s | tools/call req/s | ratio | server CPU per request, GET / tools/call: ratio | target | tools/call latency |',
  '|---|---:|---:|---:|---:|---|---|',
  line,
  '',
  `Ratio columns: the median of the rounds' own ratios (each round runs GET then tools/call back to back); per round, req/s / CPU: ${rounds_}.`,
  '',
  `In process (\`ai.handle\`, 50 calls in flight, the same store): GET /memory/retrieve ${fmt(getUs)} µs, tools/call memory_retrieve ${fmt(toolUs)} µs per call. ` +
    'Both make the same two store operations (the charge with the key check, the read). What the MCP path adds, measured apart (µs per call):',
  '',
  '| part | µs |',
  '|---|---:|',
  ...Object.entries(parts).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
  '',
  'Over HTTP the request has a body to read (the JSON-RPC envelope) and the answer is larger (the route\'s JSON twice: as `structuredContent` and as the text content, 2.6 times the bytes): that, and the garbage of both, is most of the rest. ' +
    'The mount is the README\'s (aipaygent reads bodies itself); `MCP_HOST_JSON=1` puts `express.json()` before it, whose body parsing costs the tool call more (measured in the notes below).',
].join('\n'));
