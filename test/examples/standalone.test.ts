// `npm start`'s server, as a newcomer meets it: it prints an admin token and a key that work at once.
import { afterAll, expect, it } from 'vitest';
import { call } from '../support/mounts.js';
import { startStandalone, type Standalone } from '../support/standalone.js';

const started: Standalone[] = [];
afterAll(() => Promise.all(started.map((s) => s.stop())));
const start = async (env: Record<string, string>) => {
  const s = await startStandalone(env);
  started.push(s);
  return s;
};

it('prints a generated admin token and a first API key that work with the article curl', async () => {
  const { url, lines } = await start({ AIPAYGENT_ADMIN_TOKEN: '', AIPAYGENT_STORE: '' });
  // The key line may come just after "listening".
  await expect.poll(() => lines.some((l) => l.startsWith('first API key:'))).toBe(true);
  const key = lines.find((l) => l.startsWith('first API key:'))!.split(': ')[1]!;
  const admin = lines.find((l) => l.startsWith('admin token'))!.split(': ')[1]!;
  const stored = await call(`${url}/memory/store`, { key, body: { user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' }, ttl_days: 365 } });
  expect(stored.body.message).toBe('Memory stored successfully');
  expect((await call(`${url}/memory/retrieve?user_id=dev_user_123&key=coding_preferences`, { key })).body.data).toEqual({ language: 'Python' });
  expect((await call(`${url}/admin/keys`, { key: admin, body: {} })).status).toBe(201);
  const unknown = await call(`${url}/nothing/here`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('not_found');
}, 30_000);

it('uses AIPAYGENT_ADMIN_TOKEN when set and prints no secret', async () => {
  const { url, lines } = await start({ AIPAYGENT_ADMIN_TOKEN: 'a-chosen-admin-token-123' });
  expect(lines.join('\n')).not.toContain('a-chosen-admin-token-123');
  expect(lines.some((l) => l.startsWith('first API key'))).toBe(false);
  expect((await call(`${url}/admin/keys`, { key: 'a-chosen-admin-token-123', body: {} })).status).toBe(201);
}, 30_000);
