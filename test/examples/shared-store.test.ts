// Two standalone servers sharing one Redis or Postgres see each other's writes (and revocations) at once.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../support/mounts.js';
import { dropPrefix } from '../support/cleanup.js';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { startStandalone, type Standalone } from '../support/standalone.js';

const ADMIN = 'shared-store-admin-token-0123';
const backends: Array<[string, string | null]> = [
  ['redis', await redisUrlOrSkip()],
  ['postgres', await postgresUrlOrSkip()],
];

describe.each(backends)('two standalone servers on one %s', (_name, url) => {
  const prefix = `apgshared_${randomUUID().slice(0, 8)}_`;
  const servers: Standalone[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (url) await dropPrefix(url, prefix);
  });

  it.skipIf(!url)('a key, a memory and a revocation made through one are seen by the other', async () => {
    const env = { AIPAYGENT_STORE: url!, AIPAYGENT_STORE_PREFIX: prefix, AIPAYGENT_ADMIN_TOKEN: ADMIN, AIPAYGENT_MULTI_PROCESS: '1' };
    const [a, b] = await Promise.all([startStandalone(env), startStandalone(env)]);
    servers.push(a!, b!);
    const created = await call(`${a!.url}/admin/keys`, { key: ADMIN, body: {} });
    const key = created.body.api_key as string;
    await call(`${a!.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: { from: 'a' } } });
    expect((await call(`${b!.url}/memory/retrieve?user_id=u&key=k`, { key })).body.data).toEqual({ from: 'a' });
    await call(`${b!.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: { from: 'b' } } });
    const back = await call(`${a!.url}/memory/retrieve?user_id=u&key=k`, { key });
    expect(back.body).toMatchObject({ data: { from: 'b' }, version: 2 });
    await call(`${b!.url}/admin/keys/${created.body.key_id}`, { key: ADMIN, method: 'DELETE' });
    expect((await call(`${a!.url}/memory/retrieve?user_id=u&key=k`, { key })).status).toBe(401);
  }, 60_000);
});
