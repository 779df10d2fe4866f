// The package as a user meets it: packed, installed from the tarball into a fresh Express app, the README's Express quick
// start run against it, then each optional package added in turn (a missing one fails at boot with its name).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrlOrSkip } from '../support/backends.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { freePort, startOwnRedis, type OwnServer } from '../support/own-servers.js';
import { diskUsage, expressQuickStart, runUntil, type Run } from './support.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the packed package in a fresh Express app', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'apg-package-'));
  const app = join(dir, 'app');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A user's shell: none of our variables, and none of the npm_* ones that `npm test` passes down (its allow-scripts among them).
  for (const name of Object.keys(env)) if (/^(AIPAYGENT_|ANTHROPIC_|npm_)|^PORT$/i.test(name)) delete env[name];
  const running: ChildProcess[] = [];
  let redis: OwnServer | undefined;
  let pgDatabase: { admin: string; url: string } | undefined;

  /** npm in the host app, from the local cache where it can (the registry is only for what this machine never fetched). */
  const npm = (...args: string[]) => exec('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env, maxBuffer: 64 << 20 });
  /** The quick start (app.mjs) with extra variables, until `ready` matches a line or it exits. */
  const quickStart = (extra: NodeJS.ProcessEnv, ready: RegExp): Promise<Run> => runUntil(process.execPath, ['app.mjs'], app, { ...env, ...extra }, ready, running);
  /** The article's two curls, through fetch, against a running quick start. */
  async function articleCurl(base: string, key: string): Promise<void> {
    const auth = { authorization: `Bearer ${key}` };
    const stored = await fetch(`${base}/memory/store`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' }, ttl_days: 365 }),
    });
    expect(await stored.json()).toMatchObject({ status: 'success', message: 'Memory stored successfully' });
    const got = await fetch(`${base}/memory/retrieve?user_id=dev_user_123&key=coding_preferences`, { headers: auth });
    expect(await got.json()).toMatchObject({ status: 'success', data: { language: 'Python' } });
  }
  /** A key from the installed CLI, in process on the store (what an operator types). */
  async function cliKey(store: string): Promise<string> {
    const { stdout } = await exec(join(app, 'node_modules/.bin/aipaygent'), ['keys', 'create', '--json'], { cwd: app, env: { ...env, AIPAYGENT_STORE: store } });
    return (JSON.parse(stdout) as { api_key: string }).api_key;
  }

  beforeAll(async () => {
    // npm pack as a user runs it: the prepack script builds; only the tarball is written, and only into `dir`.
    const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env, maxBuffer: 16 << 20 });
    const { filename } = (JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>)[0]!;
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'host-app', private: true, type: 'module' }));
    await npm('install', join(dir, filename), 'express@5');
    writeFileSync(join(app, 'app.mjs'), expressQuickStart(readFileSync(join(ROOT, 'README.md'), 'utf8')));
  }, 300_000);

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await redis?.stop();
    if (pgDatabase) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: pgDatabase.admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${new URL(pgDatabase.url).pathname.slice(1)} WITH (FORCE)`);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs small, with no install script, and nothing of the optional features', async () => {
    const bytes = diskUsage(join(app, 'node_modules'));
    console.log(`memory-only host app (tarball + express 5): node_modules ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThanOrEqual(25e6);
    const { stdout } = await npm('ls', '--all', '--parseable');
    for (const pkg of ['viem', 'ox', '@anthropic-ai/sdk', 'swagger-ui-dist', '@scarf/scarf', 'uplot', 'pg', '@keyv/redis', 'better-sqlite3']) {
      expect(stdout.split('\n').some((p) => p.endsWith(`/node_modules/${pkg}`)), pkg).toBe(false);
    }
    const { stdout: scripts } = await npm('install-scripts', 'ls');
    expect(scripts).not.toMatch(/postinstall|preinstall|install:/);
  });

  it('runs the README\'s Express quick start as written: the first key, the article\'s curl under /ai, /docs served from the package', async () => {
    const port = await freePort();
    const run = await quickStart({ PORT: String(port) }, /API key: apg_/);
    const out = run.lines.join('\n');
    expect(out).toMatch(/^memory: on/m);
    expect(out).toMatch(/^claude: off \(set the claude\.apiKey option/m);
    const key = /API key: (apg_\S+)/.exec(out)![1]!;
    const base = `http://localhost:${port}/ai`;
    await articleCurl(base, key);
    expect(await (await fetch(`http://localhost:${port}/`)).text()).toBe('your own routes keep working');
    const page = await (await fetch(`${base}/docs`)).text();
    const bundle = /src="([^"]*swagger-ui-bundle\.js[^"]*)"/.exec(page)![1]!;
    const js = await fetch(`http://localhost:${port}${bundle}`);
    expect(js.status).toBe(200);
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    // The console is off without an admin token, and says how to turn it on.
    const console404 = await fetch(`${base}/console`);
    expect(console404.status).toBe(404);
    expect(((await console404.json()) as { error: { message: string } }).error.message).toMatch(/AIPAYGENT_ADMIN_TOKEN/);
    // A Claude call on a server without Claude says how to turn it on, in JSON (not Express's HTML page).
    const claude = await fetch(`${base}/claude/message`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
    expect(claude.status).toBe(404);
    expect(((await claude.json()) as { error: { message: string } }).error.message).toMatch(/ANTHROPIC_API_KEY/);
    run.child.kill('SIGTERM');
  });

  it('serves the console from the package with an admin token: the page, its modules and uPlot (bundled: no uplot installed)', async () => {
    const port = await freePort();
    const run = await quickStart({ PORT: String(port), AIPAYGENT_ADMIN_TOKEN: 'package-test-admin-token' }, /listening on/);
    const page = await fetch(`http://localhost:${port}/ai/console`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const links = [...html.matchAll(/(?:src|href)="(\/ai\/console\/[^"]+)"/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThanOrEqual(4);
    for (const link of links) expect((await fetch(`http://localhost:${port}${link}`)).status, link).toBe(200);
    // The modules main.js imports, by name (they import each other the same way).
    for (const name of ['api.js', 'dom.js', 'charts.js', 'usage.js', 'overview.js', 'accounts.js', 'account.js', 'key-actions.js']) {
      expect((await fetch(`http://localhost:${port}/ai/console/${name}`)).status, name).toBe(200);
    }
    const uplot = await fetch(`http://localhost:${port}/ai/console/uplot.js`);
    expect(await uplot.text()).toMatch(/^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.\d+\)/);
    run.child.kill('SIGTERM');
  });

  /** Boots with a feature whose package is missing: exit 1, the package and its install command in one line. */
  async function failsNamingPackage(extra: NodeJS.ProcessEnv, pkg: string): Promise<void> {
    const run = await quickStart(extra, /listening on/);
    expect(run.code, run.lines.join('\n')).toBe(1);
    expect(run.lines.join('\n')).toContain(`needs the package "${pkg}", which is not installed: run npm install ${pkg}`);
    expect(run.lines.join('\n')).not.toMatch(/listening on/);
  }

  it('Redis: fails at boot without @keyv/redis; with it, a CLI-made key and the article\'s curl work', async () => {
    const port = await freePort();
    redis = await startOwnRedis(port);
    const store = `redis://127.0.0.1:${port}`;
    await failsNamingPackage({ AIPAYGENT_STORE: store }, '@keyv/redis');
    await npm('install', '@keyv/redis@5');
    const key = await cliKey(store);
    const http = await freePort();
    const run = await quickStart({ AIPAYGENT_STORE: store, PORT: String(http) }, /listening on/);
    expect(run.lines.join('\n')).toMatch(/^store: redis:\/\/127\.0\.0\.1:\d+ \(redis, shared by processes\)$/m);
    await articleCurl(`http://localhost:${http}/ai`, key);
    run.child.kill('SIGTERM');
  });

  it('Postgres: fails at boot without pg; with it, a CLI-made key and the article\'s curl work', async () => {
    const admin = await postgresUrlOrSkip();
    if (!admin) return;
    const name = `apg_pkg_${randomBytes(4).toString('hex')}`;
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    const url = new URL(admin);
    url.pathname = `/${name}`;
    pgDatabase = { admin, url: url.toString() };
    await failsNamingPackage({ AIPAYGENT_STORE: pgDatabase.url }, 'pg');
    await npm('install', 'pg@8');
    const key = await cliKey(pgDatabase.url);
    const http = await freePort();
    const run = await quickStart({ AIPAYGENT_STORE: pgDatabase.url, PORT: String(http) }, /listening on/);
    await articleCurl(`http://localhost:${http}/ai`, key);
    run.child.kill('SIGTERM');
  });

  it('SQLite: fails at boot without better-sqlite3, and says how to build it when its install script did not run', async () => {
    const store = `sqlite://${join(dir, 'data', 'memory.db')}`;
    await failsNamingPackage({ AIPAYGENT_STORE: store }, 'better-sqlite3');
    // Installed without its install script (--ignore-scripts, or an npm that blocks them): the native module is not built.
    await npm('install', 'better-sqlite3@12', '--ignore-scripts');
    const unbuilt = await quickStart({ AIPAYGENT_STORE: store }, /listening on/);
    expect(unbuilt.code, unbuilt.lines.join('\n')).toBe(1);
    expect(unbuilt.lines.join('\n')).toContain('could not load the native module of "better-sqlite3"');
    expect(unbuilt.lines.join('\n')).toContain('npm rebuild better-sqlite3');
    // What `npm rebuild better-sqlite3` makes, taken from this repository's own build of the same version for the same Node
    // (compiling SQLite again costs over a minute of CPU on every run, and tests nothing of ours).
    const built = join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const target = join(app, 'node_modules/better-sqlite3/build/Release');
    mkdirSync(target, { recursive: true });
    copyFileSync(built, join(target, 'better_sqlite3.node'));
    const key = await cliKey(store);
    const http = await freePort();
    const run = await quickStart({ AIPAYGENT_STORE: store, PORT: String(http) }, /listening on/);
    await articleCurl(`http://localhost:${http}/ai`, key);
    run.child.kill('SIGTERM');
  });

  it('Claude: fails at boot without @anthropic-ai/sdk; with it, the article\'s Claude call is answered', async () => {
    const fake = await startFakeAnthropic();
    try {
      const claude = { ANTHROPIC_API_KEY: 'sk-ant-package-test', ANTHROPIC_BASE_URL: fake.url };
      await failsNamingPackage(claude, '@anthropic-ai/sdk');
      await npm('install', '@anthropic-ai/sdk@1');
      const http = await freePort();
      const run = await quickStart({ ...claude, PORT: String(http) }, /API key: apg_/);
      const key = /API key: (apg_\S+)/.exec(run.lines.join('\n'))![1]!;
      const res = await fetch(`http://localhost:${http}/ai/claude/message`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], model: 'claude-3-5-sonnet-20241022' }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('Hello from the fake Claude.');
      run.child.kill('SIGTERM');
    } finally {
      await fake.close();
    }
  });

  it('MCP: off without @modelcontextprotocol/sdk (the feature line says how), AIPAYGENT_MCP=1 fails at boot naming it; installed, on by default', async () => {
    const port = await freePort();
    const off = await quickStart({ PORT: String(port) }, /listening on/);
    expect(off.lines.join('\n')).toMatch(/^mcp: off \(npm install @modelcontextprotocol\/sdk/m);
    off.child.kill('SIGTERM');
    // Asked for explicitly (the CLI's serve reads AIPAYGENT_MCP): a startup error naming the package.
    const asked = await runUntil(join(app, 'node_modules/.bin/aipaygent'), ['serve'], app, { ...env, AIPAYGENT_MCP: '1', PORT: String(await freePort()) }, /listening on/, running);
    expect(asked.code, asked.lines.join('\n')).toBe(1);
    expect(asked.lines.join('\n')).toContain('needs the package "@modelcontextprotocol/sdk", which is not installed: run npm install @modelcontextprotocol/sdk');
    await npm('install', '@modelcontextprotocol/sdk@1');
    const http = await freePort();
    const run = await quickStart({ PORT: String(http) }, /API key: apg_/);
    expect(run.lines.join('\n')).toMatch(/^mcp: on \(POST \/mcp/m);
    const key = /API key: (apg_\S+)/.exec(run.lines.join('\n'))![1]!;
    const res = await fetch(`http://localhost:${http}/ai/mcp`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const tools = ((await res.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['memory_store', 'memory_retrieve', 'credits_balance']));
    run.child.kill('SIGTERM');
  });

  it('the installed CLI: --help, serve (compiled, no tsx), and doctor on the SQLite store', async () => {
    const bin = join(app, 'node_modules/.bin/aipaygent');
    const { stdout } = await exec(bin, ['--help'], { cwd: app, env });
    expect(stdout).toMatch(/^Usage: aipaygent <command>/);
    const port = await freePort();
    const served = await runUntil(bin, ['serve'], app, { ...env, PORT: String(port) }, /^first API key: apg_/, running);
    expect(served.lines.join('\n')).toMatch(/^ {2}memory: on/m);
    expect(served.lines.join('\n')).toContain(`aipaygent listening on http://localhost:${port}`);
    const key = /first API key: (apg_\S+)/.exec(served.lines.join('\n'))![1]!;
    await articleCurl(`http://localhost:${port}`, key);
    expect((await fetch(`http://localhost:${port}/readyz`)).status).toBe(200);
    served.child.kill('SIGTERM');
    const doctor = await exec(bin, ['doctor'], { cwd: app, env: { ...env, AIPAYGENT_STORE: `sqlite://${join(dir, 'data', 'memory.db')}` } });
    expect(doctor.stdout).toMatch(/^✓ package better-sqlite3 12\./m);
    expect(doctor.stdout).toMatch(/^✓ store sqlite:\/\/.* \(sqlite\): connected and migrated/m);
  });
});
