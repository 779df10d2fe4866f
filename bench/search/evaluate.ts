// Runs the relevance set through a search client and scores it: recall@5 and MRR, overall and by sharesWord.
import { RELEVANCE_SET, type Json, type LabelledQuery, type RelevanceUser } from './relevance.js';

export type SearchMode = 'lexical' | 'semantic' | 'hybrid';

/** How the set reaches a server: over HTTP (the benchmark) or through `ai.handle` (the test). */
export interface SearchClient {
  store(userId: string, key: string, data: Json): Promise<void>;
  /** The keys GET /memory/search answered, best first. */
  search(userId: string, q: string, mode: SearchMode, limit: number): Promise<string[]>;
}

/** Recall is counted in the top K; MRR looks this deep (a first relevant key below it counts 0). */
export const K = 5;
export const DEPTH = 10;

export interface QueryOutcome extends LabelledQuery {
  userId: string;
  got: string[];
  /** Share of the relevant keys found in the top K. */
  recall: number;
  /** 1 / rank of the first relevant key within DEPTH, else 0. */
  reciprocalRank: number;
}

export interface Score {
  n: number;
  recall: number;
  mrr: number;
}

export interface ModeReport {
  mode: SearchMode;
  all: Score;
  sharesWord: Score;
  paraphrase: Score;
  outcomes: QueryOutcome[];
}

/** Stores every memory of the set, user by user (sequentially: the order of writes is part of a run's determinism). */
export async function storeSet(client: SearchClient, set: RelevanceUser[] = RELEVANCE_SET): Promise<void> {
  for (const user of set) for (const mem of user.memories) await client.store(user.userId, mem.key, mem.data);
}

export function scoreQuery(query: LabelledQuery, userId: string, got: string[]): QueryOutcome {
  const top = new Set(got.slice(0, K));
  const recall = query.relevant.filter((k) => top.has(k)).length / query.relevant.length;
  const rank = got.slice(0, DEPTH).findIndex((k) => query.relevant.includes(k));
  return { ...query, userId, got, recall, reciprocalRank: rank === -1 ? 0 : 1 / (rank + 1) };
}

function score(outcomes: QueryOutcome[]): Score {
  const n = outcomes.length;
  const mean = (f: (o: QueryOutcome) => number) => (n === 0 ? 0 : outcomes.reduce((s, o) => s + f(o), 0) / n);
  return { n, recall: mean((o) => o.recall), mrr: mean((o) => o.reciprocalRank) };
}

/** Runs every query of the set in `mode` (the memories must be stored already). */
export async function evaluate(client: SearchClient, mode: SearchMode, set: RelevanceUser[] = RELEVANCE_SET): Promise<ModeReport> {
  const outcomes: QueryOutcome[] = [];
  for (const user of set) {
    for (const query of user.queries) outcomes.push(scoreQuery(query, user.userId, await client.search(user.userId, query.q, mode, DEPTH)));
  }
  return {
    mode,
    all: score(outcomes),
    sharesWord: score(outcomes.filter((o) => o.sharesWord)),
    paraphrase: score(outcomes.filter((o) => !o.sharesWord)),
    outcomes,
  };
}

const f = (x: number) => x.toFixed(3);

/** The markdown table of recall@5 and MRR per mode, split by sharesWord. */
export function qualityTable(reports: ModeReport[]): string {
  const first = reports[0]!;
  return [
    `| mode | recall@${K}, all (${first.all.n}) | MRR, all | recall@${K}, shares a word (${first.sharesWord.n}) | MRR, shares a word | recall@${K}, paraphrase (${first.paraphrase.n}) | MRR, paraphrase |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...reports.map((r) => `| ${r.mode} | ${f(r.all.recall)} | ${f(r.all.mrr)} | **${f(r.sharesWord.recall)}** | ${f(r.sharesWord.mrr)} | ${f(r.paraphrase.recall)} | ${f(r.paraphrase.mrr)} |`),
  ].join('\n');
}

/** The queries that missed (recall below 1 in the top K), with what came first instead. */
export function misses(report: ModeReport, onlySharesWord = false): string[] {
  return report.outcomes
    .filter((o) => o.recall < 1 && (!onlySharesWord || o.sharesWord))
    .map((o) => `${o.id} "${o.q}" (${o.sharesWord ? 'shares a word' : 'paraphrase'}): wanted ${o.relevant.join(', ')}; got ${o.got.slice(0, K).join(', ') || 'nothing'}`);
}

/** Queries answered in the top K whose first relevant key was not first: what ranked above it. */
export function belowFirst(report: ModeReport, onlySharesWord = true): string[] {
  return report.outcomes
    .filter((o) => o.reciprocalRank > 0 && o.reciprocalRank < 1 && (!onlySharesWord || o.sharesWord))
    .map((o) => `${o.id} "${o.q}": ${o.relevant.join(', ')} at rank ${Math.round(1 / o.reciprocalRank)}, after ${o.got.slice(0, Math.round(1 / o.reciprocalRank) - 1).join(', ')}`);
}
