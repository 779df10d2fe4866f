// What a search document costs a write: puts per second and CPU per put with and without one, in alternating rounds (bench/search-speed-sql.ts).
import { readFileSync } from 'node:fs';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import type { Store } from '../src/storage/contract.js';
import { memory, putInput } from './search-corpus.js';

/**
 * CPU seconds used so far by each process of the database's side of the run, by pid (Postgres: our pools'
 * backends; SQLite runs in this process: none).
 */
export type CpuProbe = () => Promise<Map<number, number>>;

/** Seconds of CPU (user + system) of each process, from /proc (Linux); a process gone is left out. */
export function procCpu(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Exited between the query and the read.
    }
  }
  return out;
}

/**
 * CPU used between two snapshots: per process, so that a pool closing idle connections or opening new ones
 * during a round neither subtracts nor adds their whole lifetime (a process started since `before` counts
 * from 0; one gone since is lost, and was idle).
 */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}

export interface PutCost {
  /** Median writes/s of each mode, and the median of the paired ratios (with / without). */
  withDoc: number;
  without: number;
  pairedRatio: number;
  /** The pairs' ratios at the first and third quartiles: how much one pair differs from the next. */
  ratioQuartiles: [number, number];
  /** CPU per write in microseconds (this process + the database's processes), by mode. */
  cpuWith: number;
  cpuWithout: number;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * xs.length)]!;
const median = (xs: number[]) => quantile(xs, 0.5);

/**
 * Runs `write(withDoc, i)` for `round` distinct i, `inFlight` at a time, in rounds alternating AB/BA between
 * the two modes: on a shared machine the load drifts, so each pair is compared within itself, and CPU per
 * write (which the machine's other tenants change much less than wall time) is measured too.
 */
async function alternate(
  pairs: number, round: number, inFlight: number, dbCpu: CpuProbe,
  prepare: (withDoc: boolean, from: number) => (i: number) => Promise<unknown>,
): Promise<PutCost> {
  const rate = { with: [] as number[], without: [] as number[] };
  const cpu = { with: 0, without: 0 };
  const ratios: number[] = [];
  let n = 0;
  const one = async (withDoc: boolean): Promise<number> => {
    const write = prepare(withDoc, n);
    n += round;
    let next = 0;
    const cpu0 = process.cpuUsage();
    const db0 = await dbCpu();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < round; i = next++) await write(i);
    }));
    const r = round / ((performance.now() - t0) / 1000);
    const used = process.cpuUsage(cpu0);
    cpu[withDoc ? 'with' : 'without'] += (used.user + used.system) / 1e6 + cpuBetween(db0, await dbCpu());
    rate[withDoc ? 'with' : 'without'].push(r);
    return r;
  };
  // One warm-up pair, counted in the CPU totals too (both modes alike).
  await one(true);
  await one(false);
  for (let pair = 0; pair < pairs; pair++) {
    const first = pair % 2 === 0;
    const a = await one(first);
    const b = await one(!first);
    ratios.push(first ? a / b : b / a);
  }
  const perWrite = (seconds: number) => (seconds / ((pairs + 1) * round)) * 1e6;
  return { withDoc: median(rate.with), without: median(rate.without), pairedRatio: median(ratios), ratioQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)], cpuWith: perWrite(cpu.with), cpuWithout: perWrite(cpu.without) };
}

/** `store.put` of new keys with a search document and without one (what a store does with search off: `index: undefined`). */
export function storePutCost(s: Store, account: string, dbCpu: CpuProbe, pairs: number, round: number, inFlight: number): Promise<PutCost> {
  return alternate(pairs, round, inFlight, dbCpu, (withDoc, from) => {
    // Documents are made before the clock starts: this is the store's cost (the memory service makes them).
    const inputs = Array.from({ length: round }, (_, i) => putInput(9, from + i, withDoc));
    return (i) => s.put(account, 'm:writes', `${from + i}/${inputs[i]!.key}`, inputs[i]!.input, Date.now());
  });
}

/**
 * POST /memory/store through `ai.handle` (key check, free call, history version, the write), on two servers
 * sharing the store: search on (the document made in Node and indexed) and `search: false`. One account per
 * write in flight: the accounts of a real server are many, and one account's charges are serialized.
 */
export async function httpStoreCost(url: string, prefix: string, dbCpu: CpuProbe, pairs: number, round: number, inFlight: number): Promise<PutCost> {
  const on = createAipaygent({ store: url, storePrefix: prefix, freeCallsPerDay: 1_000_000 });
  const off = createAipaygent({ store: url, storePrefix: prefix, freeCallsPerDay: 1_000_000, search: false });
  try {
    await Promise.all([on.ready, off.ready]);
    const keys = await Promise.all(Array.from({ length: inFlight }, async () => (await on.api.keys.create()).api_key));
    const request = (i: number, body: unknown): CoreRequest => ({
      method: 'POST', path: '/memory/store', query: '', headers: { authorization: `Bearer ${keys[i % keys.length]}` },
      body: { kind: 'parsed', value: body }, signal: new AbortController().signal,
    });
    const send = async (ai: Aipaygent, i: number, body: unknown) => {
      const res = await ai.handle(request(i, body));
      if (!res || res.status !== 200) throw new Error(`POST /memory/store answered ${res?.status}`);
    };
    return await alternate(pairs, round, inFlight, dbCpu, (withDoc, from) => {
      const bodies = Array.from({ length: round }, (_, i) => {
        const m = memory(8, from + i);
        return { user_id: 'writer', key: `${from + i}/${m.key}`, data: m.value };
      });
      return (i) => send(withDoc ? on : off, i, bodies[i]);
    });
  } finally {
    await Promise.all([on.close(), off.close()]);
  }
}
