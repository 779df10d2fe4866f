// Reading a Redis keyspace in tests: every key matching a pattern (SCAN, never KEYS), and a prefix as a literal glob.
import type { createClient } from '@keyv/redis';

export type AdminClient = ReturnType<typeof createClient>;

/** Every key matching `pattern`. */
export async function scanKeys(client: AdminClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const reply = await client.scan(cursor, { MATCH: pattern, COUNT: 1000 });
    out.push(...reply.keys);
    cursor = String(reply.cursor);
  } while (cursor !== '0');
  return out;
}

/** `s` with the glob characters of SCAN MATCH escaped. */
export const glob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');
