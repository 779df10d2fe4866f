// What only the SQL stores' search has: literal quoting, terms of every script kept whole, migration of older tables, FTS5 consistency.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentText } from '../../src/search/document.js';
import { parseQuery } from '../../src/search/query.js';
import type { PutInput, Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { schemaStatements, scopeToken } from '../../src/storage/sql-schema.js';
import { fts5Match, tsqueryLiteral, tsvectorLiteral } from '../../src/storage/sql-search.js';
import { postgresUrlOrSkip } from '../support/backends.js';

const url = await postgresUrlOrSkip();
const bytes = (s: string) => new TextEncoder().encode(s);
/** index null: none given (`index: undefined`, as the memory service passes it with search off or on a renewal). */
const doc = (key: string, value: unknown, index: string | null = documentText(key, value), expiresAt: number | null = null): PutInput =>
  ({ value: bytes(JSON.stringify(value)), size: 1, tag: 't', expiresAt, index: index ?? undefined });
const find = async (s: Store, a: string, query: string) => (await s.search(a, 'm:u', { units: parseQuery(query), limit: 50 }, Date.now())).map((h) => h.record.key).sort();

describe('search literals', () => {
  it('quote every term for tsvector, tsquery and FTS5, and drop what cannot match', () => {
    expect(tsvectorLiteral("it's back\\slash it's")).toBe(`'it''s':1 'back\\\\slash':2 'it''s':3`);
    expect(tsvectorLiteral('')).toBeNull();
    expect(tsvectorLiteral('a  b')).toBe(`'a':1 'b':3`);
    const clamped = tsvectorLiteral(Array.from({ length: 20_000 }, () => 'x').join(' '))!;
    expect(clamped.includes(`'x':16382 'x':16383 'x':16383`) && clamped.endsWith(`'x':16383`)).toBe(true);
    const units = [{ words: ['a'], prefix: false }, { words: ['b', "c'd"], prefix: false }, { words: ['pre'], prefix: true }, { words: [''], prefix: false }];
    expect(tsqueryLiteral(units)).toBe(`'a' | 'b' <-> 'c''d' | 'pre':*`);
    expect(tsqueryLiteral([])).toBeNull();
    // Lexemes Postgres refuses (over 2,047 bytes) are left out of both sides.
    expect(tsvectorLiteral(`a ${'é'.repeat(1100)} b`)).toBe(`'a':1 'b':3`);
    expect(tsqueryLiteral([{ words: ['é'.repeat(1100)], prefix: false }, { words: ['a'], prefix: false }])).toBe(`'a'`);
    expect(fts5Match([...units, { words: ['say "hi"'], prefix: false }])).toBe(`"a" OR "b c'd" OR "pre" * OR "say ""hi"""`);
    expect(fts5Match([{ words: ['()'], prefix: false }])).toBeNull();
  });
});

interface Backend {
  name: string;
  open(): Promise<Store>;
  /** A store on tables made by the migration before search existed, holding one record "old" (value "legacy words"). */
  openLegacy(): Promise<Store>;
  /** Checks that the index matches the records exactly (SQLite's FTS5 integrity-check; nothing to check on Postgres). */
  consistent(): Promise<void>;
  drop(): Promise<void>;
}

const sqlite = (): Backend => {
  const dir = mkdtempSync(join(tmpdir(), 'apg-search-'));
  const opts = { timeoutMs: 10_000, prefix: 'apg', sweepIntervalMs: 0 };
  return {
    name: 'sqlite',
    open: () => openStore(`sqlite://${join(dir, 'new.db')}`, opts),
    async openLegacy() {
      const db = new Database(join(dir, 'old.db'));
      for (const statement of schemaStatements('sqlite', 'apg')) db.exec(statement);
      db.prepare(`INSERT INTO "apg_records" VALUES ('acct', 'm:u', 'old', ?, 1, 1, 't', 1, 1, NULL)`).run(Buffer.from('"legacy words"'));
      db.close();
      return openStore(`sqlite://${join(dir, 'old.db')}`, opts);
    },
    async consistent() {
      const db = new Database(join(dir, 'new.db'));
      try {
        db.exec(`INSERT INTO "apg_search" ("apg_search") VALUES ('integrity-check')`);
        // The index read back, term by term in order, is exactly the documents of the records that have one,
        // each with its record's scope token.
        db.exec(`CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, 'apg_search', 'instance')`);
        const indexed = db.prepare(`SELECT doc, group_concat(term, ' ') AS terms, (SELECT term FROM temp.v s WHERE s.doc = d.doc AND s.col = 'scope') AS scope
          FROM (SELECT doc, term FROM temp.v WHERE col = 'search' ORDER BY doc, offset) d GROUP BY doc ORDER BY doc`).all();
        const documents = db.prepare(`SELECT rowid AS doc, search AS terms, account, collection FROM "apg_records" WHERE search IS NOT NULL ORDER BY rowid`).all()
          .map((r: any) => ({ doc: r.doc, terms: r.terms, scope: scopeToken(r.account, r.collection) }));
        expect(indexed).toEqual(documents);
      } finally {
        db.close();
      }
    },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
};

const postgres = (): Backend => {
  const schema = `apg_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const opts = { timeoutMs: 10_000, prefix: schema, sweepIntervalMs: 0 };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url! });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'postgres',
    open: () => openStore(url!, opts),
    async openLegacy() {
      await admin(async (c) => {
        // The schema before search: every statement but the last two (the search column and its index).
        await c.query(schemaStatements('postgres', `${schema}_old`).slice(0, -2).join(';\n'));
        await c.query(`INSERT INTO "${schema}_old".records VALUES ('acct', 'm:u', 'old', $1, 1, 1, 't', 1, 1, NULL)`, [Buffer.from('"legacy words"')]);
      });
      return openStore(url!, { ...opts, prefix: `${schema}_old` });
    },
    consistent: async () => {},
    drop: () => admin(async (c) => {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.query(`DROP SCHEMA IF EXISTS "${schema}_old" CASCADE`);
    }),
  };
};

for (const make of [sqlite, ...(url ? [postgres] : [])]) {
  const b = make();
  describe(`${b.name} search`, () => {
    let s: Store;
    beforeAll(async () => {
      s = await b.open();
      await s.init();
    });
    afterAll(async () => {
      await s?.close();
      await b.drop();
    });

    it('keeps terms of every script whole: folded Latin, Greek, CJK, other digits, Unicode 15 letters, folded fractions', async () => {
      const a = `acct_${randomUUID().slice(0, 8)}`;
      const values: Record<string, string> = {
        cologne: 'Köln am Rhein', athens: 'Αθήνα πόλη', tokyo: '東京タワー', arabic: 'رقم ١٢٣', recent: 'word \u{31350}\u{31351}', half: 'x½y',
      };
      for (const [key, value] of Object.entries(values)) await s.put(a, 'm:u', key, doc(key, value), Date.now());
      expect(await find(s, a, 'koln')).toEqual(['cologne']);
      expect(await find(s, a, 'KÖLN rhein')).toEqual(['cologne']);
      expect(await find(s, a, 'αθηνα')).toEqual(['athens']);
      expect(await find(s, a, '"ΑΘΗΝΑ πολη"')).toEqual(['athens']);
      expect(await find(s, a, '"πολη αθηνα"')).toEqual([]);
      expect(await find(s, a, '東京タワー')).toEqual(['tokyo']);
      expect(await find(s, a, '東京*')).toEqual(['tokyo']);
      expect(await find(s, a, '東京')).toEqual([]);
      expect(await find(s, a, '١٢٣')).toEqual(['arabic']);
      expect(await find(s, a, '\u{31350}\u{31351}')).toEqual(['recent']);
      expect(await find(s, a, 'x½y')).toEqual(['half']);
      await b.consistent();
    });

    it('scopes by account and collection, also long ones with any characters', async () => {
      const a = `acct_${randomUUID().slice(0, 8)}_${'é"\'x'.repeat(100)}`;
      const col = `m:${'ü 🧠*'.repeat(100)}`;
      await s.put(a, col, 'k', doc('k', 'scoped words'), Date.now());
      await s.put(a, 'm:u', 'k', doc('k', 'scoped words'), Date.now());
      expect((await s.search(a, col, { units: parseQuery('scoped'), limit: 5 }, Date.now())).map((h) => h.record.key)).toEqual(['k']);
      expect((await s.search(a, `${col}x`, { units: parseQuery('scoped'), limit: 5 }, Date.now()))).toEqual([]);
      await b.consistent();
    });

    it('accepts documents past Postgres\' limits (16,383 positions, 1 MB of lexemes): the write succeeds, the start stays findable', async () => {
      const a = `acct_${randomUUID().slice(0, 8)}`;
      const long = Array.from({ length: 20_000 }, (_, i) => `t${i % 5000}${'x'.repeat(30)}`).join(' ');
      expect((await s.put(a, 'm:u', 'long', doc('long', 'long', `first ${long} last`), Date.now())).ok).toBe(true);
      expect(await find(s, a, 'first')).toEqual(['long']);
      expect(await find(s, a, `t4999${'x'.repeat(30)}`)).toEqual(['long']);
      // A term longer than Postgres takes (only a direct caller of the store can pass one): no fault either side.
      const huge = 'ü'.repeat(1500);
      expect((await s.put(a, 'm:u', 'huge', doc('huge', 'huge', `${huge} small`), Date.now())).ok).toBe(true);
      expect(await find(s, a, 'small')).toEqual(['huge']);
      await s.search(a, 'm:u', { units: [{ words: [huge], prefix: false }, { words: [huge], prefix: true }], limit: 5 }, Date.now());
    });

    it('keeps the index exact through overwrites, renewals, deletes, expiry, sweep and purge', async () => {
      const a = `acct_${randomUUID().slice(0, 8)}`;
      const now = Date.now();
      for (let i = 0; i < 40; i++) await s.put(a, 'm:u', `k${i % 10}`, doc(`k${i}`, `word${i % 7} common`, i % 5 === 0 ? '' : documentText(`k${i}`, `word${i % 7} common`), i % 3 ? null : now + 50), now + i);
      for (let i = 0; i < 10; i += 3) await s.put(a, 'm:u', `k${i}`, doc(`k${i}`, 'renewed', null), now + 100);
      await s.delete(a, 'm:u', 'k1', now + 100);
      await b.consistent();
      await s.sweep(now + 1_000);
      await b.consistent();
      expect(await s.purge(a, 'm:u')).toBeGreaterThan(0);
      expect(await find(s, a, 'common')).toEqual([]);
      await b.consistent();
    });

    it('migrates tables made before search: old rows stay readable, are not searchable until rewritten', async () => {
      const legacy = await b.openLegacy();
      try {
        await legacy.init();
        await legacy.init();
        expect((await legacy.get('acct', 'm:u', 'old', Date.now()))?.version).toBe(1);
        expect(await find(legacy, 'acct', 'legacy')).toEqual([]);
        // A renewal without a document keeps none; a rewrite with one makes it searchable.
        await legacy.put('acct', 'm:u', 'old', doc('old', 'legacy words', null), Date.now());
        expect(await find(legacy, 'acct', 'legacy')).toEqual([]);
        await legacy.put('acct', 'm:u', 'old', doc('old', 'legacy words'), Date.now());
        expect(await find(legacy, 'acct', 'legacy')).toEqual(['old']);
      } finally {
        await legacy.close();
      }
    });
  });
}
