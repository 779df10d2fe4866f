// The command line itself: --help on every command and sub-command, exit codes 0 / 1 / 2, misuse answered on stderr with the usage.
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../src/http/routes/discovery.js';
import { runCli, spawnCli, tempDir } from './support.js';

const HELP: Record<string, string> = {
  '--help': 'Usage: aipaygent <command>',
  '-h': 'Usage: aipaygent <command>',
  help: 'Usage: aipaygent <command>',
  'serve --help': 'Usage: aipaygent serve',
  'serve -h': 'Usage: aipaygent serve',
  'doctor --help': 'Usage: aipaygent doctor',
  'keys --help': 'Usage: aipaygent keys create|list|revoke',
  'keys -h': 'Usage: aipaygent keys create|list|revoke',
  'keys create --help': 'Usage: aipaygent keys create',
  'keys list --help': 'Usage: aipaygent keys list',
  'keys revoke --help': 'Usage: aipaygent keys revoke',
  'keys rotate --help': 'Usage: aipaygent keys rotate',
  'keys revoke -h': 'Usage: aipaygent keys revoke',
  'credits --help': 'Usage: aipaygent credits grant',
  'credits grant --help': 'Usage: aipaygent credits grant',
  'help keys': 'Usage: aipaygent keys create|list|revoke',
  'help credits grant': 'Usage: aipaygent credits grant',
};

describe('--help', () => {
  for (const [line, usage] of Object.entries(HELP)) {
    it(`aipaygent ${line}: prints the usage on stdout, exit 0`, async () => {
      // No store configured: help must not need one, nor open anything.
      const r = await runCli(line.split(' '));
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out.startsWith(usage)).toBe(true);
    });
  }

  it('a command help says what each option means', async () => {
    expect((await runCli(['credits', 'grant', '--help'])).out).toMatch(/--reference <id>\s+makes the grant idempotent/);
    expect((await runCli(['keys', 'create', '--help'])).out).toMatch(/--url <base>/);
    expect((await runCli(['serve', '--help'])).out).toMatch(/--port <n>/);
    // The group help lists the sub-commands with what they do.
    const keys = (await runCli(['keys', '--help'])).out;
    for (const sub of ['create', 'list', 'rotate', 'revoke']) expect(keys).toMatch(new RegExp(`^\\s+${sub}\\s+\\S`, 'm'));
  });

  it('--version prints the package version', async () => {
    expect(await runCli(['--version'])).toEqual({ code: 0, out: PACKAGE_VERSION, err: '' });
  });
});

const MISUSE: string[][] = [
  [],
  ['frobnicate'],
  ['--frobnicate'],
  ['keys'],
  ['keys', 'frob'],
  ['credits'],
  ['credits', 'take'],
  ['serve', '--port', 'abc'],
  ['serve', '--port', '-1'],
  ['serve', '--port', '70000'],
  ['serve', 'now'],
  ['serve', '--bogus'],
  ['doctor', 'now'],
  ['doctor', '--bogus'],
  ['keys', 'create', '--bogus'],
  ['keys', 'create', 'extra'],
  ['keys', 'create', '--label'],
  ['keys', 'create', '--json=yes'],
  ['keys', 'list'],
  ['keys', 'list', '--account'],
  ['keys', 'revoke'],
  ['keys', 'revoke', 'key_a', 'key_b'],
  ['credits', 'grant'],
  ['credits', 'grant', 'acct_abc'],
  ['credits', 'grant', 'acct_abc', '100'],
  ['credits', 'grant', 'acct_abc', '100', '--reason', ''],
  ['credits', 'grant', 'acct_abc', '1.5', '--reason', 'r'],
  ['credits', 'grant', 'acct_abc', '-5', '--reason', 'r'],
  ['credits', 'grant', 'acct_abc', '0', '--reason', 'r'],
  ['credits', 'grant', 'acct_abc', '1e6', '--reason', 'r'],
  ['credits', 'grant', 'acct_abc', '99999999999999999999', '--reason', 'r'],
  ['credits', 'grant', 'acct_abc', '100', 'extra', '--reason', 'r'],
];

describe('misuse: exit 2, the error and the usage on stderr, nothing on stdout', () => {
  for (const argv of MISUSE) {
    it(`aipaygent ${argv.join(' ') || '(nothing)'}`, async () => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/\bUsage: aipaygent\b/);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('names the problem', async () => {
    expect((await runCli(['frobnicate'])).err).toContain('unknown command "frobnicate"');
    expect((await runCli(['keys', 'list'])).err).toContain('--account is required');
    expect((await runCli(['credits', 'grant', 'acct_abc', '0', '--reason', 'r'])).err).toMatch(/amount_micro_usd must be a positive integer/);
    expect((await runCli(['keys', 'create', '--bogus'])).err).toContain("'--bogus'");
  });
});

describe('failures: exit 1 with one line on stderr', () => {
  it('a configuration error is one line naming the variable', async () => {
    for (const env of [
      { AIPAYGENT_FREE_CALLS_PER_DAY: 'abc' },
      { AIPAYGENT_PRICING: 'not json' },
      { AIPAYGENT_RPC_URL: 'http://127.0.0.1:1' }, // payments half configured: no receiver
      { AIPAYGENT_STORE: 'ftp://nowhere' },
    ]) {
      const r = await runCli(['keys', 'create'], env);
      expect(r.code, JSON.stringify(env)).toBe(1);
      expect(r.err.split('\n'), r.err).toHaveLength(1);
      expect(r.err).toContain(Object.keys(env)[0] === 'AIPAYGENT_STORE' ? 'unsupported URL' : Object.keys(env)[0]);
      expect(r.out).toBe('');
    }
  });

  it('the in-memory store is refused for the in-process door, with a message that says to use --url', async () => {
    for (const env of [{}, { AIPAYGENT_STORE: 'memory' }]) {
      const r = await runCli(['keys', 'create'], env);
      expect(r.code).toBe(1);
      expect(r.err).toContain('--url');
      expect(r.err).toContain('AIPAYGENT_STORE');
      expect(r.err.split('\n')).toHaveLength(1);
    }
  });
});

describe('the real bin, in a child process', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('exit codes and streams as a shell sees them', async () => {
    const store = { AIPAYGENT_STORE: `sqlite://${tmp.dir}/store.db` };
    const [help, unknown, created, missing] = await Promise.all([
      spawnCli(['keys', 'create', '--help']),
      spawnCli(['frobnicate']),
      spawnCli(['keys', 'create', '--json', '--label', 'from a shell'], store),
      spawnCli(['keys', 'list', '--account', 'acct_aaaaaaaaaaaaaaaa'], store),
    ]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: aipaygent keys create/);
    expect(help.err).toBe('');

    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toMatch(/unknown command "frobnicate"\nUsage: aipaygent/);

    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ api_key: expect.stringMatching(/^apg_/), key_id: expect.stringMatching(/^key_/), account_id: expect.stringMatching(/^acct_/) });

    expect(missing.code).toBe(1);
    expect(missing.out).toBe('');
    expect(missing.err.trim()).toBe('aipaygent: No account "acct_aaaaaaaaaaaaaaaa" (it has no API keys)');
  });
});
