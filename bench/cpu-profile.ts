// A CPU profile of a bench server over the measured window only (bench/probe.ts with PROFILE=1), and its summary
// per request: self time by function and by file or package, and the time spent under a few of our functions.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * In the server process: SIGUSR2 starts the V8 profiler, the next SIGUSR2 stops it and writes `file`
 * (then prints "profiled" on stdout). Sampling every 50 µs, so a request of 30 µs is seen.
 */
export function profileOnSignal(file: string): void {
  let session: Session | undefined;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!session) {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 50 });
        await session.post('Profiler.start');
        return;
      }
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      process.stdout.write('profiled\n');
    })();
  });
}

const where = (url: string): string => {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return url;
  const ours = /\/(src|adapters|bench)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url || '(native)';
};

/** Lines of a summary: µs per request of self time, the `top` largest, by function and by file. */
export function summarize(prof: Profile, requests: number, top = 30): string[] {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return void (idle += dt);
    total += dt;
    const fn = `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
    selfFn.set(fn, (selfFn.get(fn) ?? 0) + dt);
    selfFile.set(where(url), (selfFile.get(where(url)) ?? 0) + dt);
    // Inclusive time by file: each file on the stack once per sample.
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const w = where(byId.get(n)!.callFrame.url);
      if (!seen.has(w)) (seen.add(w), inclusive.set(w, (inclusive.get(w) ?? 0) + dt));
    }
  });
  const per = (us: number) => (us / requests).toFixed(2).padStart(7);
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const rank = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms, ${requests} requests: ${per(total).trim()} µs of busy main thread per request`,
    'self time by function (µs per request, share of busy):',
    ...rank(selfFn, top).map(([k, v]) => `${per(v)} ${pct(v)}  ${k}`),
    'self time by file or package:',
    ...rank(selfFile, 25).map(([k, v]) => `${per(v)} ${pct(v)}  ${k}`),
    'inclusive time by file or package (on the stack):',
    ...rank(inclusive, 25).map(([k, v]) => `${per(v)} ${pct(v)}  ${k}`),
  ];
}
