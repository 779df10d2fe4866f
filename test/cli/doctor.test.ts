// `aipaygent doctor`: a ✓ or ✗ per check (configuration, packages, store, Claude upstream), exit 0 only when all pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { error, json, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { freePort, runCli, tempDir } from './support.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
const sqlite = () => ({ AIPAYGENT_STORE: `sqlite://${tmp.dir}/doctor.db` });
const doctor = (env: NodeJS.ProcessEnv) => runCli(['doctor'], env);
/** The check lines (✓ / ✗), without the feature list that follows them. */
const checks = (out: string) => out.split('\n').filter((l) => /^[✓✗] /.test(l));

describe('doctor', () => {
  it('on SQLite: every check passes (exit 0), the store line gives its latency, then what is on and off', async () => {
    const r = await doctor(sqlite());
    expect(r.code, r.out).toBe(0);
    expect(r.err).toBe('');
    const lines = checks(r.out);
    expect(lines.every((l) => l.startsWith('✓ ')), r.out).toBe(true);
    expect(lines).toContain('✓ configuration: valid');
    expect(lines.some((l) => /^✓ package better-sqlite3 \d+\.\d+\.\d+ /.test(l))).toBe(true);
    expect(lines.find((l) => l.startsWith('✓ store '))).toMatch(/^✓ store sqlite:\/\/\S+ \(sqlite\): connected and migrated in [\d.]+ ms; a read takes [\d.]+ ms/);
    const features = r.out.split('\nfeatures:\n')[1]!.split('\n').filter(Boolean);
    expect(features.map((l) => l.trim().split(':')[0])).toEqual(['memory', 'store', 'search', 'claude', 'payments', 'x402', 'signup', 'admin', 'metrics', 'mcp', 'webhooks', 'opentelemetry']);
    // The store line says what was found, not "not open": doctor has just opened it.
    expect(features[1]).toMatch(/^ {2}store: sqlite:\/\/\S+ \(sqlite, shared by processes\)$/);
    // As serve runs: without AIPAYGENT_ADMIN_TOKEN it makes one up, so the admin API is on there.
    expect(features[2]).toMatch(/^ {2}search: on \(lexical; /);
    expect(features[7]).toMatch(/^ {2}admin: on /);
  });

  it('AIPAYGENT_MULTI_PROCESS=1 on the in-memory store is a ✗ (serve would refuse to start)', async () => {
    expect((await doctor({})).code).toBe(0);
    const r = await doctor({ AIPAYGENT_MULTI_PROCESS: '1' });
    expect(r.code).toBe(1);
    expect(checks(r.out)).toContain('✗ store memory (memory): AIPAYGENT_MULTI_PROCESS is on but this store is exact only inside one process');
    const serve = await runCli(['serve', '--port', '0'], { AIPAYGENT_MULTI_PROCESS: '1' });
    expect(serve.code).toBe(1);
    expect(serve.err).toContain('multiProcess is true');
  });

  it('an unreachable Redis is a ✗ naming the store and the cause, exit 1', async () => {
    const port = await freePort();
    const r = await doctor({ AIPAYGENT_STORE: `redis://127.0.0.1:${port}`, AIPAYGENT_STORE_TIMEOUT_MS: '300' });
    expect(r.code).toBe(1);
    const store = checks(r.out).find((l) => /^[✓✗] store /.test(l));
    expect(store).toMatch(new RegExp(`^✗ store redis://127\\.0\\.0\\.1:${port}: `));
    // The operator reads why (a timeout, a refused connection), not the message HTTP clients get.
    expect(store).not.toContain('GET /credits/ledger');
    expect(store).not.toContain('the call was not served');
  });

  it('a bad configuration is a ✗ with exit 1, naming the variable or the option', async () => {
    for (const [env, says] of [
      [{ AIPAYGENT_FREE_CALLS_PER_DAY: 'abc' }, 'AIPAYGENT_FREE_CALLS_PER_DAY must be an integer'],
      [{ AIPAYGENT_PRICING: '{"/memory/store":' }, 'AIPAYGENT_PRICING must be a JSON object'],
      [{ AIPAYGENT_PRICING: '{"/memory/store":-5}' }, 'pricing["/memory/store"] must be an integer'],
      [{ AIPAYGENT_PRICING: '{"/memroy/store":200}' }, 'unknown endpoint "/memroy/store"'],
      [{ AIPAYGENT_RPC_URL: 'http://127.0.0.1:1' }, 'AIPAYGENT_RECEIVER'],
    ] as const) {
      const r = await doctor({ ...sqlite(), ...env });
      expect(r.code, JSON.stringify(env)).toBe(1);
      expect(r.out).toMatch(/^✗ configuration: /);
      expect(r.out).toContain(says);
      expect(r.err).toBe('');
    }
  });

  it('a misspelt store URL is a ✗, exit 1', async () => {
    const r = await doctor({ AIPAYGENT_STORE: 'redis:/127.0.0.1:6379' });
    expect(r.code).toBe(1);
    expect(checks(r.out).some((l) => l.startsWith('✗ ') && l.includes('unsupported URL'))).toBe(true);
  });
});

describe('doctor with Claude configured (the fake upstream)', () => {
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(() => fake?.close());
  const env = () => ({ ...sqlite(), ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: fake.url });

  it('passes when the upstream lists its models with the key', async () => {
    fake.reset();
    fake.once((_req, res) => json(res, { data: [{ id: 'claude-sonnet-4-5', type: 'model' }], has_more: false, first_id: null, last_id: null }));
    const r = await doctor(env());
    expect(r.code, r.out).toBe(0);
    expect(checks(r.out).some((l) => l.startsWith('✓ package @anthropic-ai/sdk'))).toBe(true);
    expect(checks(r.out).find((l) => l.includes('claude upstream'))).toMatch(new RegExp(`^✓ claude upstream ${fake.url}: HTTP 200 in [\\d.]+ ms$`));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/v1\/models/) });
    expect(fake.requests[0]!.headers['x-api-key']).toBe('sk-ant-test-key');
    expect(r.out).toMatch(/^ {2}claude: on /m);
    // The key is a secret: never printed.
    expect(r.out).not.toContain('sk-ant-test-key');
  });

  it('fails (exit 1) when the key is refused', async () => {
    fake.reset();
    fake.once((_req, res) => error(res, 401, 'authentication_error', 'invalid x-api-key'));
    const r = await doctor(env());
    expect(r.code).toBe(1);
    expect(checks(r.out).find((l) => l.includes('claude upstream'))).toBe(`✗ claude upstream ${fake.url}: the API key is refused (HTTP 401)`);
    expect(r.out).not.toContain('sk-ant-test-key');
  });

  it('fails (exit 1) when the upstream cannot be reached', async () => {
    const r = await doctor({ ...env(), ANTHROPIC_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(1);
    expect(checks(r.out).find((l) => l.includes('claude upstream'))).toMatch(/^✗ claude upstream http:\/\/127\.0\.0\.1:\d+: unreachable \(/);
  });
});
