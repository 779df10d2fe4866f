// Memory of GET /memory/export on 100k records: peak RSS of the server while it streams the NDJSON,
// against the same export gathered into one string first. Run: `npx tsx bench/export-rss.ts [records] [store]`
// (store: a URL; default a fresh SQLite file, so the records do not sit in the server's own heap).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const MB = 1024 * 1024;
/** VmRSS and VmHWM (peak RSS) of a process, in MB, from /proc (Linux). */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field))!)![1]);
  return { now: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

type Msg = { port: number; key: string } | { settled: true } | { bufferedBytes: number } | { liveMB: number; samples?: number };

async function child(records: number, store: string): Promise<void> {
  const { createAipaygent } = await import('../src/create.js');
  const { nodeRequest, writeNodeResponse } = await import('../src/http/node.js');
  const ai = createAipaygent({ store, freeCallsPerDay: 1_000_000, memory: { historyVersions: 0 } });
  await ai.ready;
  const { api_key, account_id } = await ai.api.keys.create();
  const now = Date.now();
  const put = (i: number) => {
    const data = { role: i % 2 ? 'assistant' : 'user', content: `message ${i}: ${'lorem ipsum '.repeat(12)}`, n: i };
    return ai.api.memory.put(account_id, { userId: 'big_user', key: `k${String(i).padStart(7, '0')}`, data }, now);
  };
  for (let i = 0; i < records; i += 100) await Promise.all(Array.from({ length: Math.min(100, records - i) }, (_, j) => put(i + j)));
  const server = createServer((req, res) => void ai.handle(nodeRequest(req, res, {})).then((out) => writeNodeResponse(res, out!)));
  const gc = (globalThis as { gc?: () => void }).gc!;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port, key: api_key }));
  // Live memory (heap + buffers after a full GC), sampled while a measurement runs: what is retained,
  // unlike RSS, which also counts garbage V8 has not collected yet.
  const live = () => {
    const m = process.memoryUsage();
    return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
  };
  let sampler: NodeJS.Timeout | undefined;
  let maxLive = 0;
  let samples = 0;
  process.on('message', async (msg) => {
    if (msg === 'sample') {
      gc();
      const base = live();
      maxLive = base;
      samples = 0;
      sampler = setInterval(() => {
        gc();
        samples++;
        maxLive = Math.max(maxLive, live());
      }, 10);
      process.send!({ liveMB: base });
    } else if (msg === 'stop') {
      clearInterval(sampler);
      process.send!({ liveMB: maxLive, samples });
    } else if (msg === 'settle') {
      gc();
      process.send!({ settled: true });
    } else if (msg === 'buffer') {
      // The counterfactual: the same export held whole before sending, as a non-streaming server would.
      let all = '';
      for await (const chunk of ai.api.memory.exportUser(account_id, 'big_user', Date.now())) all += chunk;
      process.send!({ bufferedBytes: Buffer.byteLength(all) });
    }
  });
}

async function parent(records: number, store: string): Promise<void> {
  const worker: ChildProcess = fork(fileURLToPath(import.meta.url), ['child', String(records), store], { execArgv: [...(import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : []), '--expose-gc'] });
  const next = () => new Promise<Msg>((resolve) => worker.once('message', (m) => resolve(m as Msg)));
  const pid = worker.pid!;
  const started = Date.now();
  const { port, key } = (await next()) as { port: number; key: string };
  console.log(`store ${store.replace(/\/\/[^@/]*@/, '//***@')}: seeded ${records} records in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  /** Settles the heap (gc), resets the peak (Linux: "5" to clear_refs) and returns the RSS now. */
  const baseline = async () => {
    worker.send('settle');
    await next();
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return rss(pid).now;
  };

  const before = await baseline();
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/memory/export?user_id=big_user`, { headers: { authorization: `Bearer ${key}` } });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    for (const b of chunk) if (b === 10) lines++;
  }
  const streamed = rss(pid).peak;
  console.log(`streamed:  ${lines} lines, ${(bytes / MB).toFixed(1)} MB of NDJSON in ${((performance.now() - t0) / 1000).toFixed(2)} s; server RSS ${before.toFixed(0)} MB before, peak ${streamed.toFixed(0)} MB during (+${(streamed - before).toFixed(1)} MB)`);

  // Again, sampling live memory after forced GCs every 10 ms (slower, but shows what is retained).
  worker.send('sample');
  const liveBefore = ((await next()) as { liveMB: number }).liveMB;
  const again = await fetch(`http://127.0.0.1:${port}/memory/export?user_id=big_user`, { headers: { authorization: `Bearer ${key}` } });
  const t1 = performance.now();
  for await (const chunk of again.body as unknown as AsyncIterable<Uint8Array>) void chunk;
  console.log(`second export ${((performance.now() - t1) / 1000).toFixed(2)} s`);
  worker.send('stop');
  const { liveMB: liveMax, samples } = (await next()) as { liveMB: number; samples: number };
  console.log(`streamed:  live heap + buffers ${liveBefore.toFixed(1)} MB before, at most ${liveMax.toFixed(2)} MB during (+${(liveMax - liveBefore).toFixed(2)} MB, ${samples} samples)`);

  const beforeBuffered = await baseline();
  worker.send('buffer');
  const { bufferedBytes } = (await next()) as { bufferedBytes: number };
  const buffered = rss(pid).peak;
  console.log(`buffered:  the same ${(bufferedBytes / MB).toFixed(1)} MB held at once; server RSS ${beforeBuffered.toFixed(0)} MB before, peak ${buffered.toFixed(0)} MB (+${(buffered - beforeBuffered).toFixed(1)} MB)`);
  worker.kill();
}

if (process.argv[2] === 'child') await child(Number(process.argv[3]), process.argv[4]!);
else await parent(Number(process.argv[2] ?? 100_000), process.argv[3] ?? `sqlite://${mkdtempSync(`${tmpdir()}/apg-export-`)}/store.db`);
