// The README's quick starts, followed literally on a clean copy of the repository: its commands, its Express code, its curl.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './support/fake-anthropic.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The README section of aipaygent/client (text proposed with issue 9). */
const CLIENT_SECTION = 'Client for agents';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Type-checks a snippet the way a strict user project would, against the built package's declarations. */
function typecheck(cwd: string, file: string): void {
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--skipLibCheck', '--types', 'node', file];
  const tsc = spawnSync(process.execPath, [TSC, ...args], { cwd, encoding: 'utf8' });
  expect(tsc.status, `${file}: ${tsc.stdout}${tsc.stderr}`).toBe(0);
}

/** The text of a "## title" section, up to the next "## " heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** Its fenced code blocks, in order. */
const blocks = (text: string) => [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((b) => ({ lang: b[1]!, code: b[2]! }));

/** Shell commands of a block: backslash-continued lines joined, one command a line. */
const commands = (code: string) => code.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean);

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts a long-running command in its own process group; resolves when every `ready` pattern matched a line of its output. */
function start(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp[]): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not get ready:\n${lines.join('\n')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (ready.every((re) => lines.some((l) => re.test(l)))) {
        clearTimeout(timer);
        resolve({ child, lines });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${lines.join('\n')}`));
    });
  });
}

/** Stops a process group started above (npm -> sh -> node). */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
}

/** Retries `attempt` until it resolves (the server is starting), for up to 20 s. */
async function until<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= 200) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs the README's curl block as written, with a real key and the actual address; returns each command's parsed output. */
async function curlBlock(base: string, key: string): Promise<any[]> {
  const [, curl] = blocks(section('Run it in two commands'));
  expect(curl!.lang).toBe('sh');
  const out: any[] = [];
  for (const command of commands(curl!.code)) {
    expect(command).toMatch(/^curl /);
    const actual = command.replaceAll('YOUR_API_KEY', key).replaceAll('http://localhost:3000', base);
    const { stdout } = await run('sh', ['-c', actual], { timeout: 20_000 });
    out.push(JSON.parse(stdout));
  }
  return out;
}

/** What the curl block must answer: the article's store response, then the stored data. */
function expectArticleAnswers([stored, retrieved]: any[]): void {
  expect(stored).toMatchObject({ status: 'success', message: 'Memory stored successfully', key: 'coding_preferences', user_id: 'dev_user_123' });
  expect(stored.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(retrieved).toMatchObject({ status: 'success', user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' } });
}

describe('README quick starts, run as written on a clean copy', () => {
  let copy: string;
  const children: ChildProcess[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A clean environment: the README's commands see only the variables it names.
  for (const name of Object.keys(env)) if (name.startsWith('AIPAYGENT_') || name === 'PORT' || name === 'ANTHROPIC_API_KEY') delete env[name];

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'apg-readme-'));
    // What a clone of the working tree holds: tracked and new files, nothing ignored (no dist, no node_modules).
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, maxBuffer: 16 << 20 });
    for (const file of stdout.split('\0').filter(Boolean)) {
      // Deleted in the working tree, or not a regular file (a linked node_modules): not part of a clone.
      if (!existsSync(join(ROOT, file)) || !lstatSync(join(ROOT, file)).isFile()) continue;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(copy, file));
    }
    // `npm install`: offline, the dependencies of the same package-lock.json are linked rather than downloaded again.
    expect(existsSync(join(copy, 'package-lock.json'))).toBe(true);
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    // The package as an installer gets it: `aipaygent/...` imports resolve through package.json "exports" to dist/.
    // `npm run build`'s compile, without its second type check (npm test's typecheck does that): the same files, 3x faster.
    const build = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: copy, env, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    for (const child of children) await stop(child);
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('"Run it in two commands": npm install, npm start, then the article\'s curl with the printed key', async () => {
    const [commandsBlock] = blocks(section('Run it in two commands'));
    expect(commands(commandsBlock!.code)).toEqual(['npm install', 'npm start']);
    const port = await freePort();
    const server = await start('npm', ['start'], copy, { ...env, PORT: String(port) }, [/first API key: apg_\S+/, /listening on/]);
    children.push(server.child);
    const key = /first API key: (apg_\S+)/.exec(server.lines.join('\n'))![1]!;
    expect(server.lines.join('\n')).toContain(`listening on http://localhost:${port}`);
    expectArticleAnswers(await curlBlock(`http://localhost:${port}`, key));
  }, 90_000);

  it('"Express quick start": the code as written type-checks against the built declarations (test/package runs it from the tarball)', () => {
    const [block, ...rest] = blocks(section('Express quick start'));
    expect(block!.lang).toBe('ts');
    expect(rest).toEqual([]);
    writeFileSync(join(copy, 'readme-express.ts'), block!.code);
    typecheck(copy, 'readme-express.ts');
  }, 60_000);

  // The client section, once the README has it: each block as written against `npm start` (Claude through a local fake).
  (README.includes(`\n## ${CLIENT_SECTION}\n`) ? it : it.skip)(`"${CLIENT_SECTION}": its curl and its TypeScript, side by side`, async () => {
    const fake = await startFakeAnthropic();
    try {
      const port = await freePort();
      const serverEnv = { ...env, PORT: String(port), ANTHROPIC_API_KEY: 'sk-ant-readme', ANTHROPIC_BASE_URL: fake.url };
      const server = await start('npm', ['start'], copy, serverEnv, [/first API key: apg_\S+/, /listening on/]);
      children.push(server.child);
      const key = /first API key: (apg_\S+)/.exec(server.lines.join('\n'))![1]!;
      const base = `http://localhost:${port}`;
      const all = blocks(section(CLIENT_SECTION));
      expect(all.map((b) => b.lang)).toEqual(expect.arrayContaining(['sh', 'ts']));
      for (const [i, block] of all.entries()) {
        if (block.lang === 'sh') {
          for (const command of commands(block.code)) {
            const { stdout } = await run('sh', ['-c', command.replaceAll('YOUR_API_KEY', key).replaceAll('http://localhost:3000', base)], { timeout: 20_000 });
            expect(JSON.parse(stdout).status, command).toBe('success');
          }
        } else {
          const file = `readme-client-${i}.ts`;
          writeFileSync(join(copy, file), block.code);
          typecheck(copy, file);
          const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: copy, env: { ...env, AIPAYGENT_URL: base, AIPAYGENT_API_KEY: key }, timeout: 30_000 });
          expect(stdout).toContain('Python');
        }
      }
    } finally {
      await fake.close();
    }
  }, 120_000);
});
