// Removes everything a test run wrote under its own prefix (Redis keys, Postgres schema, naive demo rows) and closes the store.
import type { Store } from '../../src/storage/contract.js';
import { sqlNamespace } from '../../src/storage/sql-schema.js';

export async function dropPrefix(url: string, prefix: string, store?: Store): Promise<void> {
  await store?.close();
  if (url.startsWith('redis://')) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        if (keys.length) await client.unlink(keys);
      }
    } finally {
      client.destroy();
    }
  } else if (url.startsWith('postgres://')) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${sqlNamespace(prefix)}" CASCADE`);
      const demo = await client.query(`SELECT to_regclass('public.apg_naive_demo') AS t`);
      if (demo.rows[0]?.t) await client.query(`DELETE FROM apg_naive_demo WHERE key LIKE $1`, [`${prefix}%`]);
    } finally {
      await client.end();
    }
  }
}
