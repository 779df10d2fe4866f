// `npm start`'s server, as a newcomer meets it: it prints an admin token and a key that work at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { call } from '../support/mounts.js';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGTERM')));

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts examples/standalone.ts and collects its stdout lines until it listens. */
export async function startStandalone(env: Record<string, string>): Promise<{ port: number; lines: string[]; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/standalone.ts'], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`standalone exited with ${code}: ${lines.join('\n')}`)));
  });
  return { port, lines, child };
}

it('prints a generated admin token and a first API key that work with the article curl', async () => {
  const { port, lines } = await startStandalone({ AIPAYGENT_ADMIN_TOKEN: '', AIPAYGENT_STORE: '' });
  // The key line may come just after "listening".
  await expect.poll(() => lines.some((l) => l.startsWith('first API key:'))).toBe(true);
  const key = lines.find((l) => l.startsWith('first API key:'))!.split(': ')[1]!;
  const admin = lines.find((l) => l.startsWith('admin token'))!.split(': ')[1]!;
  const base = `http://127.0.0.1:${port}`;
  const stored = await call(`${base}/memory/store`, { key, body: { user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' }, ttl_days: 365 } });
  expect(stored.body.message).toBe('Memory stored successfully');
  expect((await call(`${base}/memory/retrieve?user_id=dev_user_123&key=coding_preferences`, { key })).body.data).toEqual({ language: 'Python' });
  expect((await call(`${base}/admin/keys`, { key: admin, body: {} })).status).toBe(201);
  const unknown = await call(`${base}/nothing/here`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('not_found');
}, 30_000);

it('uses AIPAYGENT_ADMIN_TOKEN when set and prints no secret', async () => {
  const { port, lines } = await startStandalone({ AIPAYGENT_ADMIN_TOKEN: 'a-chosen-admin-token-123' });
  expect(lines.join('\n')).not.toContain('a-chosen-admin-token-123');
  expect(lines.some((l) => l.startsWith('first API key'))).toBe(false);
  const r = await call(`http://127.0.0.1:${port}/admin/keys`, { key: 'a-chosen-admin-token-123', body: {} });
  expect(r.status).toBe(201);
}, 30_000);
