// Shapes of the labelled search relevance set: memories as an agent stores them, queries with the keys that answer them.

/** Any JSON value a memory holds. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One memory of one user, stored with POST /memory/store. */
export interface LabelledMemory {
  key: string;
  data: Json;
}

/** One query of the set and the keys (of the same user) that answer it. */
export interface LabelledQuery {
  /** Stable id for reports, e.g. "alex-07". */
  id: string;
  q: string;
  /** The keys that answer the query; the first found in the top 5 counts for MRR. */
  relevant: string[];
  /**
   * Whether the query shares a content word (folded, lightly stemmed, stop words aside) with a relevant
   * memory's key, field names or values. false: a paraphrase only a semantic search can answer.
   * Checked by `checkSet` so that the label cannot drift from the data.
   */
  sharesWord: boolean;
  /** Why the query is in the set, when it tests something particular (folding, phrases, prefixes). */
  note?: string;
}

/** One user's part of the set. */
export interface UserSet {
  userId: string;
  memories: LabelledMemory[];
  queries: Omit<LabelledQuery, 'id'>[];
}

/** Builds a memory; keeps the data files to one line per memory. */
export const m = (key: string, data: Json): LabelledMemory => ({ key, data });
