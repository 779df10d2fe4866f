// Right to erasure on the SQL stores: DELETE /memory/user leaves nothing of the user in the search index, read straight from the tables.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix } from '../support/cleanup.js';
import { BACKENDS, call, startMount, type Mounted } from '../support/mounts.js';
import { client, newKey } from '../memory/support.js';
import { termsOf } from '../../src/search/tokenize.js';

/** What the test reads from the database itself: index entries of a collection, and rows matching a term through the index. */
interface Inspect {
  /** Records of the collection that carry a search document (Postgres: tsvector; SQLite: document indexed by FTS5). */
  documents(collection: string): Promise<number>;
  /** Index entries found for `term`, whatever their account or collection (Postgres: through the GIN index; SQLite: the FTS5 vocabulary). */
  indexed(term: string): Promise<number>;
  close(): Promise<void>;
}

async function inspector(name: string, store: string, prefix: string): Promise<Inspect> {
  if (name === 'sqlite') {
    const db = new Database(store.replace('sqlite://', ''), { readonly: true });
    // The vocabulary of the FTS5 index itself (not the records table): how many indexed documents hold a term.
    const vocab = new Database(':memory:');
    vocab.exec(`ATTACH '${store.replace('sqlite://', '')}' AS f`);
    vocab.exec(`CREATE VIRTUAL TABLE temp.v USING fts5vocab(f, '${prefix}_search', 'row')`);
    return {
      documents: async (c) => (db.prepare(`SELECT count(*) AS n FROM "${prefix}_records" WHERE collection = ? AND search IS NOT NULL`).get(c) as { n: number }).n,
      indexed: async (term) => (vocab.prepare('SELECT doc FROM temp.v WHERE term = ?').get(term) as { doc: number } | undefined)?.doc ?? 0,
      close: async () => {
        db.close();
        vocab.close();
      },
    };
  }
  const c = new pg.Client({ connectionString: store });
  await c.connect();
  // Force the GIN index, so the count is what the index answers (then rechecked against live rows).
  await c.query('SET enable_seqscan = off');
  return {
    documents: async (col) => Number((await c.query(`SELECT count(*) AS n FROM "${prefix}".records WHERE collection = $1 AND search IS NOT NULL`, [col])).rows[0].n),
    indexed: async (term) => Number((await c.query(`SELECT count(*) AS n FROM "${prefix}".records WHERE search @@ $1::tsquery`, [`'${term}'`])).rows[0].n),
    close: () => c.end(),
  };
}

for (const name of ['sqlite', 'postgres'] as const) {
  const location = await BACKENDS[name]!();
  (location ? describe : describe.skip)(`erasure leaves no search index behind [${name}]`, () => {
    let m: Mounted;
    let db: Inspect;
    beforeAll(async () => {
      m = await startMount('core', { parsed: false, prefix: '', options: { ...location!, adminToken: 'test-admin-token-0123456789' } });
      db = await inspector(name, location!.store, location!.storePrefix);
    });
    afterAll(async () => {
      await db?.close();
      await m?.close();
      await dropPrefix(location!.store, location!.storePrefix);
    });

    it('DELETE /memory/user removes every index entry of the user and keeps the others', async () => {
      const key = await newKey(m);
      const api = client(m, key);
      const [rare, shared] = termsOf('zanzibarite quokkafarm') as [string, string];
      const gone = `erased_${randomUUID().slice(0, 8)}`;
      const kept = `kept_${randomUUID().slice(0, 8)}`;
      // Terms no other test writes: zanzibarite (the erased user only), quokkafarm (both users).
      for (let i = 0; i < 5; i++) expect((await api.store({ user_id: gone, key: `note_${i}`, data: { text: `zanzibarite quokkafarm ${i}` } })).status).toBe(200);
      expect((await api.store({ user_id: kept, key: 'note', data: { text: 'quokkafarm' } })).status).toBe(200);
      // Overwritten once, so that history versions exist too.
      expect((await api.store({ user_id: gone, key: 'note_0', data: { text: 'zanzibarite again' } })).status).toBe(200);
      const found = await call(`${m.url}/memory/search?user_id=${gone}&q=zanzibarite`, { key });
      expect(found.body.results).toHaveLength(5);
      expect(await db.documents(`m:${gone}`)).toBe(5);
      expect(await db.indexed(rare)).toBeGreaterThanOrEqual(5);

      const erased = await api.erase(gone);
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({ deleted_keys: 5, deleted_index_entries: 5 });

      expect(await db.documents(`m:${gone}`)).toBe(0);
      expect(await db.indexed(rare)).toBe(0);
      expect(await db.documents(`m:${kept}`)).toBe(1);
      expect(await db.indexed(shared)).toBe(1);
      expect((await call(`${m.url}/memory/search?user_id=${gone}&q=zanzibarite`, { key })).body.results).toEqual([]);
    });
  });
}
