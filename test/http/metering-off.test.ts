// `metering: false`: memory routes are free and uncounted, and /discover says so.
import { expect, it } from 'vitest';
import { call, describeMounts } from '../support/mounts.js';

describeMounts('metering off', () => ({ metering: false, freeCallsPerDay: 1 }), (m) => {
  it('serves memory calls past the free quota with no balance, no quota headers, nothing in the ledger', async () => {
    const { api_key: key } = await m().ai.api.keys.create();
    for (let i = 0; i < 5; i++) {
      const r = await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: `k${i}`, data: i } });
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit')).toBeNull();
      expect(r.headers.get('x-credits-balance-micro-usd')).toBeNull();
    }
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k4`, { key })).body.data).toBe(4);
    expect((await call(`${m().url}/credits/ledger`, { key })).body.entries).toEqual([]);
    const discover = await call(`${m().url}/discover`);
    const store = discover.body.endpoints.find((e: { path: string }) => e.path === '/memory/store');
    expect(store).toMatchObject({ metered: false, billing: 'free' });
    // Still authenticated: metering off is not auth off.
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k4`)).status).toBe(401);
  });
});
