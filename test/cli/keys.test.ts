// `keys create|list|revoke` and `credits grant` in process on a shared store (SQLite, Postgres, Redis), checked against a server on that store.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { parsedJson, runCli, tempDir } from './support.js';

const tag = randomBytes(4).toString('hex');
const [postgres, redis] = [await postgresUrlOrSkip(), await redisUrlOrSkip()];
// Made once the backends are found: a lookup that throws (REQUIRE_BACKENDS=1) must not leave it behind.
const tmp = tempDir();
afterAll(() => tmp.remove());
const BACKENDS: { name: string; store: string | null; prefix: string }[] = [
  { name: 'sqlite', store: `sqlite://${tmp.dir}/store.db`, prefix: `apgcli_${tag}` },
  { name: 'postgres', store: postgres, prefix: `apgcli_${tag}` },
  { name: 'redis', store: redis, prefix: `apgcli:${tag}:` },
];

for (const { name, store, prefix } of BACKENDS) {
  describe.skipIf(!store)(`keys and credits in process on ${name}`, () => {
    const env = { AIPAYGENT_STORE: store!, AIPAYGENT_STORE_PREFIX: prefix };
    const cli = (...argv: string[]) => runCli(argv, env);
    let server: Mounted;
    /** A key created with the CLI, as --json prints it. */
    const create = async (...argv: string[]) => {
      const r = await cli('keys', 'create', '--json', ...argv);
      expect(r.code, r.err).toBe(0);
      return parsedJson(r) as { api_key: string; key_id: string; account_id: string; scopes: string[]; expires_at: string | null };
    };
    const balance = async (key: string) => (await call(`${server.url}/credits/balance`, { key })).body.balance_micro_usd as number;

    beforeAll(async () => {
      // A server on the same store, as another process would run it (its own connections).
      server = await startMount('core', { parsed: false, prefix: '', options: { store: store!, storePrefix: prefix, multiProcess: true } });
    });
    afterAll(async () => {
      await server?.close();
      await dropPrefix(store!, prefix);
    });

    it('keys create: the printed key works against the server, for a new account or for --account', async () => {
      const first = await create('--label', 'laptop');
      const stored = await call(`${server.url}/memory/store`, { key: first.api_key, body: { user_id: 'u1', key: 'k', data: { from: 'cli' } } });
      expect(stored.status, stored.text).toBe(200);
      const second = await create('--account', first.account_id, '--label', 'ci');
      expect(second.account_id).toBe(first.account_id);
      const read = await call(`${server.url}/memory/retrieve?user_id=u1&key=k`, { key: second.api_key });
      expect(read.body.data).toEqual({ from: 'cli' });
      // Text output: the key once, its id and account, one per line.
      const text = await cli('keys', 'create');
      expect(text.code).toBe(0);
      expect(text.out).toMatch(/^api key \(shown once\): apg_\S+\nkey id: key_\S+\naccount: acct_\S+$/);
    });

    it('keys list: the account keys, never their secrets, as text and --json', async () => {
      const a = await create('--label', 'one');
      const b = await create('--account', a.account_id, '--label', 'two');
      const listed = await cli('keys', 'list', '--account', a.account_id, '--json');
      expect(listed.code).toBe(0);
      expect(listed.out).not.toContain(a.api_key.split('_')[2]!);
      // Compared as a set: the admin API documents "oldest first" but the store lists keys by key id, which is random.
      const rows = parsedJson(listed) as { key_id: string }[];
      const row = (k: { key_id: string }, label: string) => ({
        key_id: k.key_id, label, prefix: `apg_${k.key_id.slice(4)}`, status: 'active', scopes: ['claude', 'memory:read', 'memory:write', 'payments'],
        created_at: expect.any(String), last_used_at: null, expires_at: null, revoked_at: null, rotated_from: null, rotated_to: null, daily_spend_cap_micro_usd: null, monthly_spend_cap_micro_usd: null,
      });
      expect(rows.sort((x, y) => x.key_id.localeCompare(y.key_id))).toEqual([row(a, 'one'), row(b, 'two')].sort((x, y) => x.key_id.localeCompare(y.key_id)));
      const text = await cli('keys', 'list', '--account', a.account_id);
      expect(text.out.split('\n')).toHaveLength(2);
      expect(text.out).toMatch(new RegExp(`^${a.key_id}\\s+active\\s+created \\S+\\s+one$`, 'm'));
    });

    it('keys revoke: the server refuses the key (401) at once; list shows it revoked', async () => {
      const k = await create();
      expect((await call(`${server.url}/credits/balance`, { key: k.api_key })).status).toBe(200);
      const revoked = await cli('keys', 'revoke', k.key_id, '--json');
      expect(revoked.code).toBe(0);
      expect(parsedJson(revoked)).toEqual({ key_id: k.key_id, revoked: true });
      const refused = await call(`${server.url}/credits/balance`, { key: k.api_key });
      expect(refused.status).toBe(401);
      const listed = parsedJson(await cli('keys', 'list', '--account', k.account_id, '--json'));
      expect(listed[0]).toMatchObject({ key_id: k.key_id, status: 'revoked', revoked_at: expect.any(String) });
      // Revoking it again, or a key that never was: exit 1, one line.
      const unknown = await cli('keys', 'revoke', 'key_doesnotexistzzzzzzzzzzzz');
      expect(unknown.code).toBe(1);
      expect(unknown.err).toBe('aipaygent: No API key "key_doesnotexistzzzzzzzzzzzz"');
    });

    it('keys create --scopes --expires, keys rotate: the server enforces them; list shows them', async () => {
      const scoped = await create('--scopes', 'memory:read, claude', '--expires', '30d', '--label', 'agent');
      expect(scoped.scopes).toEqual(['claude', 'memory:read']);
      expect(Date.parse(scoped.expires_at!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      const store = await call(`${server.url}/memory/store`, { key: scoped.api_key, body: { user_id: 'u', key: 'k', data: 1 } });
      expect(store.status).toBe(403);
      expect(store.body.error.message).toContain('"memory:write"');
      expect((await call(`${server.url}/memory/list?user_id=u`, { key: scoped.api_key })).status).toBe(200);
      const at = await create('--expires', '2031-01-02T03:04:05Z');
      expect(at.expires_at).toBe('2031-01-02T03:04:05.000Z');
      // A spend cap per UTC day and month: the server enforces it in the charge (a paid call over it is a 402 naming it).
      const capped = await create('--daily-cap', '150', '--monthly-cap', '100000');
      expect(capped).toMatchObject({ daily_spend_cap_micro_usd: 150, monthly_spend_cap_micro_usd: 100000 });
      expect((await cli('credits', 'grant', capped.account_id, '100000', '--reason', 'cap test')).code).toBe(0);
      const paid = async () => (await call(`${server.url}/memory/list?user_id=u`, { key: capped.api_key })).status;
      const statuses = [];
      for (let i = 0; i < 14; i++) statuses.push(await paid());
      expect(statuses.filter((s) => s === 402)).not.toHaveLength(0);
      const refused = await call(`${server.url}/memory/list?user_id=u`, { key: capped.api_key });
      expect(refused.body.payment.spend_cap).toMatchObject({ cap: 'key_daily', limit_micro_usd: 150 });
      const listed = parsedJson(await cli('keys', 'list', '--account', capped.account_id, '--json'));
      expect(listed[0]).toMatchObject({ daily_spend_cap_micro_usd: 150, monthly_spend_cap_micro_usd: 100000 });

      const rotated = await cli('keys', 'rotate', scoped.key_id, '--grace', '0', '--json');
      expect(rotated.code, rotated.err).toBe(0);
      const next = parsedJson(rotated);
      expect(next).toMatchObject({ account_id: scoped.account_id, rotated_from: scoped.key_id, scopes: ['claude', 'memory:read'], label: 'agent', expires_at: scoped.expires_at });
      expect((await call(`${server.url}/memory/list?user_id=u`, { key: scoped.api_key })).status).toBe(401);
      expect((await call(`${server.url}/memory/list?user_id=u`, { key: next.api_key })).status).toBe(200);
      const text = await cli('keys', 'list', '--account', scoped.account_id);
      const lines = text.out.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${scoped.key_id}\\s+expired\\s+created \\S+\\s+expired \\S+\\s+scopes claude,memory:read\\s+rotated to ${next.key_id}\\s+agent$`));
      expect(lines[1]).toMatch(new RegExp(`^${next.key_id}\\s+active\\s+created \\S+\\s+expires ${next.expires_at}\\s+scopes claude,memory:read\\s+agent$`));
      const again = await cli('keys', 'rotate', scoped.key_id);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/is expired/);
      const rotateText = await cli('keys', 'rotate', next.key_id);
      expect(rotateText.out).toMatch(new RegExp(`^api key \\(shown once\\): apg_\\S+\\nkey id: key_\\S+\\naccount: ${scoped.account_id}\\nscopes: claude, memory:read\\nexpires: \\S+\\n${next.key_id} stops working at \\S+$`));
    });

    it('credits grant: shows in the server balance; with --reference twice it adds once', async () => {
      const k = await create();
      const before = await balance(k.api_key);
      const grant = () => cli('credits', 'grant', k.account_id, '2500000', '--reason', 'welcome', '--reference', `welcome-${k.account_id}`, '--json');
      const first = await grant();
      expect(first.code, first.err).toBe(0);
      expect(parsedJson(first)).toEqual({ account_id: k.account_id, granted: true, balance_micro_usd: before + 2_500_000, balance_usd: '2.500000' });
      expect(await balance(k.api_key)).toBe(before + 2_500_000);
      const again = await grant();
      expect(again.code).toBe(0);
      expect(parsedJson(again)).toMatchObject({ granted: false, balance_micro_usd: before + 2_500_000 });
      expect(await balance(k.api_key)).toBe(before + 2_500_000);
      const text = await cli('credits', 'grant', k.account_id, '1', '--reason', 'one more');
      expect(text.out).toBe('granted; balance 2.500001 USD (2500001 micro-USD)');
      expect(await balance(k.api_key)).toBe(before + 2_500_001);
    });

    it('credits grant to an unknown account: exit 1 and a clear message; nothing written', async () => {
      const r = await cli('credits', 'grant', 'acct_nosuchaccountzzz', '100', '--reason', 'typo');
      expect(r).toEqual({ code: 1, out: '', err: 'aipaygent: No account "acct_nosuchaccountzzz" (it has no API keys)' });
      const list = await cli('keys', 'list', '--account', 'acct_nosuchaccountzzz');
      expect(list.code).toBe(1);
    });

    it('arguments the admin API would refuse are refused the same way in process: exit 2 with the usage', async () => {
      const k = await create();
      const cases: [string[], RegExp][] = [
        [['credits', 'grant', 'bob', '100', '--reason', 'r'], /account_id is not an account id/],
        [['credits', 'grant', k.account_id, '1000000000001', '--reason', 'r'], /amount_micro_usd must be at most 1000000000000/],
        [['credits', 'grant', k.account_id, '100', '--reason', 'r'.repeat(501)], /reason must be at most 500 characters/],
        [['credits', 'grant', k.account_id, '100', '--reason', 'r', '--reference', 'x'.repeat(201)], /reference must be at most 200 characters/],
        [['keys', 'create', '--account', 'bob'], /account_id is not an account id/],
        [['keys', 'create', '--label', 'l'.repeat(201)], /label must be at most 200 characters/],
        [['keys', 'list', '--account', 'bob'], /account_id is not an account id/],
        [['keys', 'create', '--scopes', 'memory:read,admin'], /each scope must be one of/],
        [['keys', 'create', '--expires', 'soon'], /expires_at must be an ISO 8601 date-time/],
        [['keys', 'create', '--expires', '2020-01-01T00:00:00Z'], /expires_at must be in the future/],
        [['keys', 'rotate', k.key_id, '--grace', 'soon'], /--grace must be/],
        [['keys', 'create', '--daily-cap', '1.5'], /--daily-cap must be a whole number of micro-USD/],
      ];
      for (const [argv, message] of cases) {
        const r = await cli(...argv);
        expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(2);
        expect(r.err).toMatch(message);
        expect(r.err).toMatch(/\nUsage: aipaygent (credits grant|keys (create|list|rotate))/);
        expect(r.err).not.toMatch(/\n\s+at /);
      }
      expect(await balance(k.api_key)).toBe(0);
    });
  });
}
