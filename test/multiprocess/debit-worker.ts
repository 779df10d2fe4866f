// Child process of the multi-process tests: N concurrent debits against one shared account.
// MODE=contract uses the storage contract (atomic); MODE=naive uses Keyv get-then-set (the bug it prevents).
import { createInterface } from 'node:readline';
import { Keyv } from 'keyv';
import { openStore } from '../../src/storage/open.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const [STORE_URL, PREFIX, ACCOUNT, DEBITS, MODE] = ['STORE_URL', 'PREFIX', 'ACCOUNT', 'DEBITS', 'MODE'].map(env) as [string, string, string, string, string];
const n = Number(DEBITS);

async function naiveKeyv(): Promise<Keyv> {
  if (STORE_URL.startsWith('redis://')) {
    const { default: KeyvRedis } = await import('@keyv/redis');
    return new Keyv(new KeyvRedis(STORE_URL), { namespace: PREFIX });
  }
  if (STORE_URL.startsWith('postgres://')) {
    const { default: KeyvPostgres } = await import('@keyv/postgres');
    return new Keyv(new KeyvPostgres({ uri: STORE_URL, table: 'apg_naive_demo' }), { namespace: PREFIX });
  }
  const { default: KeyvSqlite } = await import('@keyv/sqlite');
  return new Keyv(new KeyvSqlite({ uri: `sqlite://${STORE_URL.slice('sqlite://'.length)}`, table: 'apg_naive_demo' }), { namespace: PREFIX });
}

async function main(): Promise<void> {
  let debit: () => Promise<boolean>;
  let close: () => Promise<void>;
  if (MODE === 'naive') {
    const keyv = await naiveKeyv();
    debit = async () => {
      // The get-then-set every Keyv user would write: two round trips, no atomicity.
      const balance = ((await keyv.get<number>(ACCOUNT)) ?? 0) as number;
      if (balance < 1) return false;
      await keyv.set(ACCOUNT, balance - 1);
      return true;
    };
    close = () => keyv.disconnect();
  } else {
    const store = await openStore(STORE_URL, { timeoutMs: 60_000, prefix: PREFIX });
    await store.init();
    debit = async () => (await store.post(ACCOUNT, { amount: -1, kind: 'debit' }, Date.now())).ok;
    close = () => store.close();
  }
  // Warm the connection, then wait for the parent's "go" so all processes start together.
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => {
      rl.close();
      resolve();
    });
  });
  const results = await Promise.all(Array.from({ length: n }, debit));
  process.stdout.write(JSON.stringify({ ok: results.filter(Boolean).length }) + '\n');
  await close();
}

main().catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? error.stack : error) + '\n');
  process.exit(1);
});
