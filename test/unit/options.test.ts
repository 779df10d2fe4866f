// Options are parsed once: one error lists every problem; a one-process store with multiProcess is refused.
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { createAipaygent } from '../../src/create.js';
import { parseOptions } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';

describe('options', () => {
  it('throws one error listing every fatal problem', () => {
    let message = '';
    try {
      parseOptions({ adminToken: 'short', storeTimeoutMs: -1, limits: { maxDepth: 0 }, memory: { maxTtlDays: -5 } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/adminToken must be a string of at least 16 characters/);
    expect(message).toMatch(/storeTimeoutMs must be an integer between 10 and 600000/);
    expect(message).toMatch(/limits\.maxDepth must be an integer between 1 and 1000 /);
    expect(message).toMatch(/memory\.maxTtlDays must be a number/);
    expect(message.split('\n- ').length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a depth limit JSON.stringify could not serve (it recurses: a few thousand levels overflow its stack, a 500)', () => {
    expect(() => parseOptions({ limits: { maxDepth: 5000 } })).toThrow(/limits\.maxDepth must be an integer between 1 and 1000 \(got 5000\)/);
    expect(parseOptions({ limits: { maxDepth: 1000 } }).limits.maxDepth).toBe(1000);
  });

  it('defaults every option', () => {
    const c = parseOptions();
    expect(c.limits).toMatchObject({ maxBodyBytes: 1_048_576, maxValueBytes: 262_144, maxDepth: 64, maxKeyBytes: 256 });
    expect(c.memory).toMatchObject({ defaultTtlDays: 365, maxTtlDays: 3650, compressAboveBytes: 1024 });
    expect(c.storeTimeoutMs).toBe(2000);
    expect(c.adminToken).toBeUndefined();
    expect(c.keys).toEqual({ rotationGraceSeconds: 86_400 });
  });

  it('keys.rotationGraceSeconds: 0 (stop at once) to a year', () => {
    expect(parseOptions({ keys: { rotationGraceSeconds: 0 } }).keys.rotationGraceSeconds).toBe(0);
    expect(() => parseOptions({ keys: { rotationGraceSeconds: -1 } })).toThrow(/keys\.rotationGraceSeconds must be an integer between 0 and 31536000/);
    expect(() => parseOptions({ keys: { rotationGraceSeconds: 1.5 } })).toThrow(/keys\.rotationGraceSeconds/);
  });

  it('refuses multiProcess with the in-memory store or any generic Keyv, loudly', async () => {
    for (const store of [undefined, new Keyv(new Map())]) {
      const ai = createAipaygent({ store, multiProcess: true });
      await expect(ai.ready).rejects.toThrow(/multiProcess is true but the (memory|keyv) store is atomic only inside one process/);
      // Requests fail closed instead of running on a store that cannot keep money exact: a startup fault is
      // a 500 that says the service did not start (never a 503 "store unavailable", which would invite retries).
      const res = await ai.handle({ method: 'GET', path: '/memory/list', query: 'user_id=u', headers: { authorization: 'Bearer apg_aaaaaaaaaaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body: { kind: 'none' }, signal: new AbortController().signal });
      expect(res?.status).toBe(500);
      expect(JSON.parse(res!.body as string).error.message).toMatch(/did not start/);
      await ai.close();
    }
  });

  it('rejects store URLs it does not know, without echoing credentials', async () => {
    await expect(openStore('mysql://user:secret@host/db', { timeoutMs: 100, prefix: 'x' })).rejects.toThrow(/unsupported URL "mysql:\/\/\*\*\*@host\/db"/);
  });
});
