// HTTP: POST /admin/keys/:key_id/rotate: a new key with the same settings; the old one works for the grace period, then stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, startMount, type Mounted, type MountKind } from '../support/mounts.js';

const MOUNTS: Array<{ kind: MountKind; parsed: boolean; prefix: string }> = [
  { kind: 'express5', parsed: true, prefix: '/ai' },
  { kind: 'koa2', parsed: false, prefix: '' },
];
const sleepUntil = (iso: string) => new Promise((r) => setTimeout(r, Math.max(0, Date.parse(iso) - Date.now() + 50)));

for (const spec of MOUNTS) {
  describe(`key rotation [${spec.kind}${spec.prefix ? ` under ${spec.prefix}` : ''}]`, () => {
    let m: Mounted;
    beforeAll(async () => {
      m = await startMount(spec.kind, { parsed: spec.parsed, prefix: spec.prefix, options: { keys: { rotationGraceSeconds: 7200 } } });
    });
    afterAll(async () => {
      await m?.close();
    });
    const admin = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${m.url}${path}`, { key: ADMIN_TOKEN, ...init });
    const rotate = (keyId: string, body?: unknown) => admin(`/admin/keys/${keyId}/rotate`, { method: 'POST', ...(body !== undefined ? { body } : {}) });
    const list = (key: string) => call(`${m.url}/memory/list?user_id=u`, { key });
    const keysOf = async (account: string) => (await admin(`/admin/keys?account_id=${account}`)).body.keys as any[];

    it('the new key copies label, scopes and expiry; the old one works during the grace, then is 401; a second rotation is 409', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const old = (await admin('/admin/keys', { body: { label: 'ci', scopes: ['memory:read'], expires_at: expiresAt } })).body;
      const before = Date.now();
      const r = await rotate(old.key_id, { grace_seconds: 1 });
      expect(r.status, r.text).toBe(201);
      const next = r.body;
      expect(next).toMatchObject({ status: 'success', account_id: old.account_id, label: 'ci', scopes: ['memory:read'], expires_at: expiresAt, rotated_from: old.key_id });
      expect(next.key_id).not.toBe(old.key_id);
      expect(next.api_key).not.toBe(old.api_key);
      expect(next.prefix).toBe(next.api_key.slice(0, 28));
      expect(Date.parse(next.old_key_expires_at) - before).toBeGreaterThanOrEqual(900);
      expect(Date.parse(next.old_key_expires_at) - before).toBeLessThanOrEqual(1000 + (Date.now() - before));

      expect((await list(old.api_key)).status).toBe(200); // still in its grace
      expect((await list(next.api_key)).status).toBe(200);
      expect((await call(`${m.url}/memory/store`, { key: next.api_key, body: { user_id: 'u', key: 'k', data: 1 } })).status).toBe(403);
      const again = await rotate(old.key_id, { grace_seconds: 1 });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain(next.key_id);
      expect(await keysOf(old.account_id)).toMatchObject([
        { key_id: old.key_id, status: 'active', rotated_to: next.key_id, rotated_from: null, expires_at: next.old_key_expires_at },
        { key_id: next.key_id, status: 'active', rotated_to: null, rotated_from: old.key_id, expires_at: expiresAt, scopes: ['memory:read'] },
      ]);

      await sleepUntil(next.old_key_expires_at);
      expect((await list(old.api_key)).status).toBe(401);
      expect((await call(`${m.url}/credits/balance`, { key: old.api_key })).status).toBe(401);
      expect((await list(next.api_key)).status).toBe(200);
      expect((await keysOf(old.account_id)).map((k) => k.status)).toEqual(['expired', 'active']);
      expect((await rotate(old.key_id)).status).toBe(409); // expired
    });

    it('grace 0 stops the old key at once; the default grace is the option, never past the key\'s own expiry', async () => {
      const first = (await admin('/admin/keys', { body: {} })).body;
      const now0 = (await rotate(first.key_id, { grace_seconds: 0 })).body;
      expect((await list(first.api_key)).status).toBe(401);
      expect((await list(now0.api_key)).status).toBe(200);
      expect(now0.scopes).toEqual(['claude', 'memory:read', 'memory:write', 'payments']);
      expect(now0.expires_at).toBeNull();

      const before = Date.now();
      const byDefault = (await rotate(now0.key_id)).body;
      expect(Date.parse(byDefault.old_key_expires_at) - before).toBeGreaterThanOrEqual(7_200_000 - 1000);
      expect(Date.parse(byDefault.old_key_expires_at) - before).toBeLessThanOrEqual(7_200_000 + 5000);

      const short = new Date(Date.now() + 60_000).toISOString();
      const soon = (await admin('/admin/keys', { body: { expires_at: short } })).body;
      const capped = (await rotate(soon.key_id)).body;
      expect(capped.old_key_expires_at).toBe(short);
      expect(capped.expires_at).toBe(short);
    });

    it('unknown, malformed or revoked keys and bad grace values are refused', async () => {
      const k = (await admin('/admin/keys', { body: {} })).body;
      expect((await rotate(`${k.key_id.slice(0, -1)}${k.key_id.endsWith('a') ? 'b' : 'a'}`)).status).toBe(404);
      expect((await rotate('nope')).status).toBe(404);
      // An empty key id inside the path is ours to refuse (JSON 400), never the host's 404 page.
      const empty = await rotate('');
      expect(empty.status).toBe(400);
      expect(empty.body.error).toEqual({ code: 'invalid_request', message: 'The path parameter key_id must not be empty' });
      for (const grace_seconds of [-1, 1.5, 'x', 31_536_001]) {
        const r = await rotate(k.key_id, { grace_seconds });
        expect(r.status, String(grace_seconds)).toBe(400);
        expect(r.body.error.message).toMatch(/grace_seconds/);
      }
      expect((await admin(`/admin/keys/${k.key_id}`, { method: 'DELETE' })).status).toBe(200);
      const revoked = await rotate(k.key_id);
      expect(revoked.status).toBe(409);
      expect(revoked.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('revoked') });
      expect((await keysOf(k.account_id)).map((x) => [x.status, x.revoked_at !== null])).toEqual([['revoked', true]]);
    });
  });
}
