// The storage conformance suite on the generic Keyv store (default in-memory Map), and its outbox index's sweep.
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { OUTBOX_KEEP_MS } from '../../src/storage/outbox.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { storageConformance } from './conformance.js';

storageConformance('generic keyv (memory)', async () => ({
  store: new KeyvStore(new Keyv({ throwOnErrors: true })),
  cleanup: async () => {},
}));

describe('generic keyv: the outbox index', () => {
  it('sweep drops finished deliveries OUTBOX_KEEP_MS after their last update from the index, never pending ones', async () => {
    const store = new KeyvStore(new Keyv({ throwOnErrors: true }));
    const now = Date.now();
    const row = (n: string) => ({ id: `evt_${n}.ep1`, eventId: `evt_${n}`, endpoint: 'ep1', type: 't', data: '{}' });
    await store.post('a', { amount: 1, kind: 'grant', events: { done: [row('1'), row('2'), row('3'), row('1')] } }, now);
    expect(await store.outbox.claim(now, now + 1000, 10)).toHaveLength(3);
    expect(await store.outbox.finish('a', row('1').id, 1, { delivered: true }, now)).toBe(true);
    expect(await store.outbox.finish('a', row('2').id, 1, { delivered: false, error: 'no', retryAt: null }, now + 1)).toBe(true);
    await store.sweep(now + OUTBOX_KEEP_MS);
    expect((await store.outbox.list({ limit: 10 })).map((d) => d.id)).toEqual([row('3').id, row('2').id]);
    await store.sweep(now + OUTBOX_KEEP_MS + 1);
    expect((await store.outbox.list({ limit: 10 })).map((d) => [d.id, d.status])).toEqual([[row('3').id, 'pending']]);
  });
});
