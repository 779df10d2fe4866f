// Finds the test backends (Redis, Postgres...) and decides whether their suites run, skip or fail.
import { Socket } from 'node:net';

/** Unreachable backend: fail loudly when REQUIRE_BACKENDS=1 (CI), else warn and skip. */
function unreachable(name: string, url: string, why: string): null {
  const message = `${name} at ${url.replace(/\/\/[^@/]*@/, '//***@')} is unreachable (${why})`;
  if (process.env.REQUIRE_BACKENDS === '1') throw new Error(`${message}; REQUIRE_BACKENDS=1 forbids skipping`);
  console.warn(`${message}: skipping its tests (set REQUIRE_BACKENDS=1 to fail instead)`);
  return null;
}

/** REDIS_URL (default redis://127.0.0.1:6379) when a server answers PING within 1 s, else null (or throws, see above). */
export async function redisUrlOrSkip(): Promise<string | null> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { hostname, port } = new URL(url);
  const why = await new Promise<string | null>((resolve) => {
    const socket = new Socket();
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done('no answer within 1 s'));
    socket.once('error', (error) => done(error.message));
    // Any RESP reply (+PONG, or -NOAUTH on a protected server) proves a Redis server is listening.
    socket.once('data', (data) => done(/^[+-]/.test(data.toString()) ? null : 'not a Redis server'));
    socket.connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''), () => socket.write('PING\r\n'));
  });
  return why === null ? url : unreachable('Redis', url, why);
}

/** POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) when `SELECT 1` answers within 2 s, else null (or throws, see above). */
export async function postgresUrlOrSkip(): Promise<string | null> {
  const url = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch (error) {
    return unreachable('Postgres', url, error instanceof Error ? error.message : String(error));
  } finally {
    await client.end().catch(() => {});
  }
}
