// `keys` and `credits` with --url: against a running `aipaygent serve` on the in-memory store, through its admin API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/mounts.js';
import { startStandalone, type Standalone } from '../support/standalone.js';
import { freePort, parsedJson, runCli } from './support.js';

const ADMIN = 'cli-remote-admin-token-0123456789';

describe('keys and credits with --url against aipaygent serve (in-memory store)', () => {
  let server: Standalone;
  const env = { AIPAYGENT_ADMIN_TOKEN: ADMIN };
  const cli = (...argv: string[]) => runCli([...argv, '--url', server.url], env);
  const create = async (...argv: string[]) => {
    const r = await cli('keys', 'create', '--json', ...argv);
    expect(r.code, r.err).toBe(0);
    return parsedJson(r) as { api_key: string; key_id: string; account_id: string; prefix: string; scopes: string[] };
  };

  beforeAll(async () => {
    server = await startStandalone({ AIPAYGENT_ADMIN_TOKEN: ADMIN, AIPAYGENT_STORE: '' });
  });
  afterAll(() => server?.stop());

  it('keys create: prints the same JSON as in process, and the key works', async () => {
    const k = await create('--label', 'remote');
    expect(Object.keys(k).sort()).toEqual(['account_id', 'api_key', 'daily_spend_cap_micro_usd', 'expires_at', 'key_id', 'label', 'monthly_spend_cap_micro_usd', 'prefix', 'scopes']);
    expect((await call(`${server.url}/memory/store`, { key: k.api_key, body: { user_id: 'u', key: 'k', data: 1 } })).status).toBe(200);
    const text = await cli('keys', 'create', '--account', k.account_id);
    expect(text.out).toMatch(new RegExp(`^api key \\(shown once\\): apg_\\S+\\nkey id: key_\\S+\\naccount: ${k.account_id}$`));
  });

  it('keys list and revoke: the revoked key is refused (401) by the server', async () => {
    const k = await create('--label', 'to revoke');
    const listed = await cli('keys', 'list', '--account', k.account_id, '--json');
    expect(parsedJson(listed)).toEqual([{
      key_id: k.key_id, label: 'to revoke', prefix: k.prefix, status: 'active', scopes: k.scopes, created_at: expect.any(String), last_used_at: null,
      expires_at: null, revoked_at: null, rotated_from: null, rotated_to: null, daily_spend_cap_micro_usd: null, monthly_spend_cap_micro_usd: null,
    }]);
    const revoked = await cli('keys', 'revoke', k.key_id);
    expect(revoked).toEqual({ code: 0, out: `revoked ${k.key_id}`, err: '' });
    expect((await call(`${server.url}/credits/balance`, { key: k.api_key })).status).toBe(401);
    const again = await cli('keys', 'revoke', 'key_doesnotexistzzzzzzzzzzzz');
    expect(again).toMatchObject({ code: 1, err: 'aipaygent: No API key "key_doesnotexistzzzzzzzzzzzz"' });
  });

  it('credits grant: in the balance; --reference twice adds once; an unknown account is exit 1', async () => {
    const k = await create();
    const grant = () => cli('credits', 'grant', k.account_id, '700000', '--reason', 'trial', '--reference', 'trial-1', '--json');
    expect(parsedJson(await grant())).toEqual({ account_id: k.account_id, granted: true, balance_micro_usd: 700_000, balance_usd: '0.700000' });
    expect(parsedJson(await grant())).toEqual({ account_id: k.account_id, granted: false, balance_micro_usd: 700_000, balance_usd: '0.700000' });
    expect((await call(`${server.url}/credits/balance`, { key: k.api_key })).body.balance_micro_usd).toBe(700_000);
    const unknown = await cli('credits', 'grant', 'acct_nosuchaccountzzz', '100', '--reason', 'typo');
    expect(unknown).toEqual({ code: 1, out: '', err: 'aipaygent: No account "acct_nosuchaccountzzz" (it has no API keys)' });
  });

  it('arguments the admin API refuses: exit 2 with the usage, as in process', async () => {
    const r = await cli('credits', 'grant', 'bob', '100', '--reason', 'r');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/account_id is not an account id \(acct_…\)\nUsage: aipaygent credits grant/);
  });

  it('AIPAYGENT_URL works like --url, with or without a trailing slash', async () => {
    const r = await runCli(['keys', 'create', '--json'], { ...env, AIPAYGENT_URL: `${server.url}/` });
    expect(r.code, r.err).toBe(0);
    expect(parsedJson(r).api_key).toMatch(/^apg_/);
  });

  it('a wrong or missing admin token, a server that is not there: exit 1, one line', async () => {
    const wrong = await runCli(['keys', 'create', '--url', server.url], { AIPAYGENT_ADMIN_TOKEN: 'not-the-token-000000000000' });
    expect(wrong.code).toBe(1);
    expect(wrong.err.split('\n')).toHaveLength(1);
    expect(wrong.err).toMatch(/HTTP 401/);
    const none = await runCli(['keys', 'create', '--url', server.url], {});
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('AIPAYGENT_ADMIN_TOKEN') });
    const gone = await runCli(['keys', 'create', '--url', `http://127.0.0.1:${await freePort()}`], env);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/^aipaygent: Cannot reach http:\/\/127\.0\.0\.1:\d+ /);
    expect(gone.err.split('\n')).toHaveLength(1);
  });

  it('the token never appears in what the CLI prints', async () => {
    const outputs = await Promise.all([cli('keys', 'create'), cli('credits', 'grant', 'bob', '1', '--reason', 'r'), cli('keys', 'list', '--account', 'acct_nosuchaccountzzz')]);
    for (const r of outputs) expect(r.out + r.err).not.toContain(ADMIN);
  });
});
