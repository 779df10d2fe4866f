// Search types of the storage contract (Store.search), kept apart so that contract.ts stays one screenful of operations.
import type { StoredRecord } from './contract.js';

/** One thing a query looks for: a term (`words` of one), a phrase (its words adjacent, in order), or a prefix. */
export interface SearchUnit {
  /** Terms as src/search/tokenize.ts makes them. */
  words: string[];
  /** The (single) word is a prefix: every term starting with it matches. */
  prefix: boolean;
}

export interface SearchQuery {
  /** A record matches when any unit does; more matching units, rarer ones and shorter documents rank higher. */
  units: SearchUnit[];
  /** Only keys starting with this string. */
  keyPrefix?: string;
  /** 1..1000. */
  limit: number;
}

/** A live record that matched, with its relevance (higher is better; comparable only within one answer). */
export interface SearchHit {
  record: StoredRecord;
  score: number;
}
