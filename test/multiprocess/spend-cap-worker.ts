// Child process of spend-caps.test.ts: CALLS concurrent paid charges of one account under one spend cap (SpendCap), each
// writing the cap's `spend_cap.reached` event when refused. Prints {ok, capped}.
import { createInterface } from 'node:readline';
import { openStore } from '../../src/storage/open.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const [STORE_URL, PREFIX, ACCOUNT, CALLS, PRICE, CAP] = ['STORE_URL', 'PREFIX', 'ACCOUNT', 'CALLS', 'PRICE', 'CAP'].map(env) as [string, string, string, string, string, string];

async function main(): Promise<void> {
  const store = await openStore(STORE_URL, { timeoutMs: 60_000, prefix: PREFIX });
  await store.init();
  const cap = JSON.parse(CAP) as { counter: string; limit: number; expiresAt: number; eventId: string };
  // The event's id is the cap's and period's: every process writes the same row, which the store keeps once.
  const reached = { id: `${cap.eventId}.ep1`, eventId: cap.eventId, endpoint: 'ep1', type: 'spend_cap.reached', data: JSON.stringify({ counter: cap.counter }) };
  const charge = async () => {
    const now = Date.now();
    const r = await store.charge(ACCOUNT, {
      window: 'mp', windowExpiresAt: now + 3_600_000, freeLimit: 0, price: Number(PRICE),
      caps: [{ counter: cap.counter, limit: cap.limit, expiresAt: cap.expiresAt }], events: { capped: [[reached]] },
    }, now);
    return r.ok ? 'ok' : 'cap' in r && r.cap === 0 ? 'capped' : 'other';
  };
  // Connected: wait for the parent's "go" so all processes start together.
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => (rl.close(), resolve()));
  });
  const results = await Promise.all(Array.from({ length: Number(CALLS) }, charge));
  process.stdout.write(JSON.stringify({ ok: results.filter((r) => r === 'ok').length, capped: results.filter((r) => r === 'capped').length }) + '\n');
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? error.stack : error) + '\n');
  process.exit(1);
});
