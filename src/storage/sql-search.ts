// Full-text search on the SQL stores: Postgres tsvector/tsquery with a GIN index, SQLite FTS5 with bm25().
//
// The terms are made in Node (src/search/tokenize.ts) and arrive already folded and stemmed, so neither
// database may split, fold or stem them again. Postgres: the tsvector and tsquery are written as
// literals (`'term':1,4`, `'a' <-> 'b' | 'pre':*`), never through to_tsvector/to_tsquery, whose parser
// depends on the database's locale and drops or splits letters it does not know (with this machine's
// C.UTF-8, about 29,000 of the 285,000 one-letter terms of Unicode 15: recent scripts, CJK extension G/H,
// vulgar fractions...). SQLite: FTS5's `ascii` tokenizer, which splits on ASCII spaces and punctuation only
// and keeps every non-ASCII character as it is.
import type { Millis, SearchHit, SearchQuery, SearchUnit } from './contract.js';
import { keyRange, type SqlExec } from './sql-exec.js';
import { toRecord, type Params } from './sql-rows.js';
import { scopeToken, type TableNames } from './sql-schema.js';

/** What differs between the dialects' search: how a document is stored, how a query is written and run. */
export interface SearchDialect {
  /** SQL of the value written to `records.search`, from the `@search` parameter. */
  readonly documentSql: string;
  /** The `@search` parameter for a document ('' and whitespace alone: null, not searchable). */
  document(index: string): string | null;
  /** The `@query` parameter for the units, in one collection; null when no unit can match anything. */
  query(units: readonly SearchUnit[], account: string, collection: string): string | null;
  /** The search statement; `where` holds the scope, liveness and key-range conditions on `r`. */
  statement(t: TableNames, where: string): string;
}

/**
 * Postgres keeps at most 16,383 positions per tsvector, and reads at most 1 MB of lexeme text (repeats
 * included) into one. The text is bounded by 3 bytes per UTF-16 unit (the most UTF-8 takes), so a document
 * stops at ~333,000 characters of terms; documents the memory service writes (16,000 terms) rarely come near.
 */
const MAX_POSITION = 16_383;
const MAX_LEXEME_UNITS = Math.floor(1_000_000 / 3);

/**
 * Postgres refuses a lexeme over 2,047 bytes. The tokenizer cuts terms at 64 characters, so only a caller
 * of the store itself can pass one: it is left out of documents and queries alike (never found).
 */
const tooLong = (term: string): boolean => term.length > 682 && Buffer.byteLength(term) > 2047;

/** A lexeme quoted for tsvector/tsquery input: inside single quotes, `'` doubled and `\` escaped. */
const lexeme = (term: string): string =>
  term.includes("'") || term.includes('\\') ? `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${term}'`;

/**
 * `'term':1 'other':2 'term':3`: every term with its position (1-based), as tsvector input reads it. Repeats
 * are left to Postgres, which merges a lexeme's positions while it sorts the lexemes anyway.
 */
export function tsvectorLiteral(index: string): string | null {
  const words = index.split(' ');
  let out = '';
  let units = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '' || tooLong(w)) continue;
    // Past Postgres' size limit the rest of the document is left out rather than refusing the write.
    if ((units += w.length) > MAX_LEXEME_UNITS) break;
    // Positions past the limit are clamped (as Postgres does); the term stays findable.
    out += `${out ? ' ' : ''}${lexeme(w)}:${i < MAX_POSITION ? i + 1 : MAX_POSITION}`;
  }
  return out || null;
}

/** `'a' | 'b' <-> 'c' | 'pre':*`: any unit (a term, a phrase of adjacent terms, a prefix). */
export function tsqueryLiteral(units: readonly SearchUnit[]): string | null {
  const parts: string[] = [];
  for (const u of units) {
    const words = u.words.filter((w) => w !== '');
    // A phrase with a word that cannot be indexed cannot occur.
    if (!words.length || words.some(tooLong)) continue;
    parts.push(u.prefix ? `${lexeme(words[0]!)}:*` : words.map(lexeme).join(' <-> '));
  }
  return parts.length ? parts.join(' | ') : null;
}

/** What FTS5's `ascii` tokenizer keeps of a term: runs of ASCII letters/digits and any non-ASCII character. */
const ASCII_TOKEN = /[A-Za-z0-9\u0080-\u{10ffff}]/u;

/** `"a" OR "b c" OR "pre" *`: each unit an FTS5 string (a phrase when it holds several tokens), quotes doubled. */
export function fts5Match(units: readonly SearchUnit[]): string | null {
  const parts: string[] = [];
  for (const u of units) {
    const words = u.prefix ? u.words.slice(0, 1) : u.words;
    // A unit the tokenizer would reduce to nothing is dropped: FTS5 refuses an empty phrase.
    if (!words.some((w) => ASCII_TOKEN.test(w))) continue;
    const phrase = `"${words.join(' ').replace(/"/g, '""')}"`;
    parts.push(u.prefix ? `${phrase} *` : phrase);
  }
  return parts.length ? parts.join(' OR ') : null;
}

const META_R = 'r.key, r.version, r.size, r.tag, r.created_at, r.updated_at, r.expires_at, r.value';
/** Ties: the latest update first, then the key (a stable answer). */
const TIES = 'r.updated_at DESC, r.key';

/**
 * Postgres: `search` is a tsvector, indexed by a GIN index (partial: rows without a document are not in
 * it). Ranking: ts_rank_cd (cover density: how often and how close the query's terms occur) normalized by
 * 1 + log(document length), the backend's equivalent of BM25. It has no inverse document frequency: a
 * rare term weighs as much as a common one.
 */
export const postgresSearch: SearchDialect = {
  documentSql: 'CAST(@search AS tsvector)',
  document: tsvectorLiteral,
  query: (units) => tsqueryLiteral(units),
  statement: (t, where) => `
    SELECT ${META_R}, ts_rank_cd(r.search, CAST(@query AS tsquery), 1) AS score
    FROM ${t.records} r
    WHERE r.search @@ CAST(@query AS tsquery) AND ${where}
    ORDER BY score DESC, ${TIES} LIMIT @limit`,
};

/**
 * SQLite: `records.search` holds the document and a contentless FTS5 table indexes it, kept in step by
 * triggers (sql-schema.ts), so every statement that writes or deletes a record updates the index in the
 * same transaction. The query asks for the collection's scope token AND any unit: FTS5 then reads only
 * the rows of that collection (measured 2-4 times faster for common words with 5 collections of 10,000).
 * Ranking: FTS5's bm25() (k1 = 1.2, b = 0.75; the scope column weighs 0), whose statistics (document
 * count, average length, document frequency) are those of the whole table: every account and collection
 * of the database file, not the searched collection alone.
 */
export const sqliteSearch: SearchDialect = {
  documentSql: '@search',
  document: (index) => (/[^ ]/.test(index) ? index : null),
  query: (units, account, collection) => {
    const match = fts5Match(units);
    return match === null ? null : `scope : "${scopeToken(account, collection)}" AND search : (${match})`;
  },
  statement: (t, where) => `
    SELECT ${META_R}, -bm25(${t.search}, 1.0, 0.0) AS score
    FROM ${t.search} JOIN ${t.records} r ON r.rowid = ${t.search}.rowid
    WHERE ${t.search} MATCH @query AND ${where}
    ORDER BY score DESC, ${TIES} LIMIT @limit`,
};

/** Runs a search in one statement: the matching live records with their values, best first. */
export async function searchRecords(
  x: SqlExec, t: TableNames, dialect: SearchDialect, account: string, collection: string, query: SearchQuery, now: Millis,
): Promise<SearchHit[]> {
  const q = dialect.query(query.units, account, collection);
  if (q === null) return [];
  const p: Params = { account, collection, now, query: q, limit: query.limit };
  const where = ['r.account = @account AND r.collection = @collection AND (r.expires_at IS NULL OR r.expires_at > @now)'];
  keyRange(query.keyPrefix, where, p, 'r.key');
  const rows = await x.all(dialect.statement(t, where.join(' AND ')), p);
  return rows.map((row) => ({ record: toRecord(row), score: Number(row.score) }));
}
