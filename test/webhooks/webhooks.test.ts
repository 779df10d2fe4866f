// Webhooks end to end, in process: each event from its cause, verified by the standardwebhooks reference library;
// spend caps answered as a 402 naming the cap; deliveries listed and retried through the admin API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

describe('webhooks and spend caps (in-memory store)', () => {
  let rx: Receiver;
  let m: Mounted;
  beforeAll(async () => {
    rx = await startReceiver();
    m = await startMount('core', {
      parsed: false, prefix: '',
      options: {
        webhooks: [{ url: rx.url, events: ['*'], secret: rx.secret }], allowInsecureWebhooks: true, webhookDelivery: { firstRetryMs: 50, maxAttempts: 4 },
        balanceLowThresholdMicroUsd: 600, freeCallsPerDay: 0, limits: { maxValueBytes: 64 },
      },
    });
  });
  afterAll(async () => {
    await m?.close();
    await rx?.close();
  });
  const admin = (path: string, body?: unknown, method?: string) => call(`${m.url}${path}`, { key: ADMIN_TOKEN, body, ...(method && { method }) });
  const store = (key: string, n: number) => call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: `k${n}`, data: { n } } });

  it('key.created, credits.granted, balance.low once, spend_cap.reached once (402 naming the cap), credits.refunded, key.revoked', async () => {
    const created = await admin('/admin/keys', { label: 'agent', daily_spend_cap_micro_usd: 500 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ daily_spend_cap_micro_usd: 500, monthly_spend_cap_micro_usd: null });
    const { api_key: key, key_id: keyId, account_id: account } = created.body;
    expect((await admin('/admin/credits', { account_id: account, amount_micro_usd: 1000, reason: 'welcome' })).status).toBe(201);
    for (let i = 1; i <= 5; i++) expect((await store(key, i)).status).toBe(200); // 500 spent: the cap is used up, the balance 500
    const capped = await store(key, 6);
    expect(capped.status).toBe(402);
    expect(capped.body.error.message).toMatch(/daily spend cap of \$?0\.0005.*buying credit does not lift it/i);
    expect(capped.body.payment).toMatchObject({ balance_micro_usd: 500, spend_cap: { cap: 'key_daily', limit_micro_usd: 500, buying_credit_lifts_it: false } });
    expect(Date.parse(capped.body.payment.spend_cap.resets_at)).toBeGreaterThan(Date.now());
    expect((await store(key, 7)).status).toBe(402);
    expect(await call(`${m.url}/credits/balance`, { key }).then((r) => r.body.balance_micro_usd)).toBe(500);
    // The account's cap covers all its keys; it counts what is spent from when it applies (no counter is kept without a cap).
    expect((await admin(`/admin/accounts/${account}/settings`, { daily_spend_cap_micro_usd: 150 }, 'PATCH')).body.settings).toMatchObject({ daily_spend_cap_micro_usd: 150 });
    const second = (await admin('/admin/keys', { account_id: account, label: 'second' })).body.api_key;
    expect((await store(second, 8)).status).toBe(200);
    const refused = await store(second, 9);
    expect(refused.status).toBe(402);
    expect(refused.body.payment.spend_cap).toMatchObject({ cap: 'account_daily', limit_micro_usd: 150 });
    // A call answered with an error it caused on our side is given back: credits.refunded.
    expect((await admin(`/admin/accounts/${account}/settings`, { daily_spend_cap_micro_usd: null }, 'PATCH')).status).toBe(200);
    const tooBig = await call(`${m.url}/memory/store`, { key: second, body: { user_id: 'u', key: 'big', data: { s: 'x'.repeat(200) } } });
    expect(tooBig.status).toBe(413);
    expect((await admin(`/admin/keys/${keyId}`, undefined, 'DELETE')).status).toBe(200);

    await rx.waitFor(1, 'key.revoked');
    const of = (type: string) => rx.received.filter((r) => r.type === type);
    expect(of('key.created').map((r) => r.data.key_id)).toContain(keyId);
    expect(of('key.created')[0]!.data).toMatchObject({ account_id: account, label: 'agent', prefix: key.slice(0, 28) });
    expect(of('credits.granted')).toHaveLength(1);
    expect(of('credits.granted')[0]!.data).toMatchObject({ account_id: account, amount_micro_usd: 1000, reason: 'welcome', balance_micro_usd: 1000 });
    expect(of('balance.low')).toHaveLength(1);
    expect(of('balance.low')[0]!.data).toMatchObject({ account_id: account, threshold_micro_usd: 600, balance_micro_usd: 500 });
    const caps = await rx.waitFor(2, 'spend_cap.reached');
    expect(caps.map((r) => r.data.cap).sort()).toEqual(['account_daily', 'key_daily']);
    expect(caps.find((r) => r.data.cap === 'key_daily')!.data).toMatchObject({ account_id: account, key_id: keyId, limit_micro_usd: 500 });
    const refunded = await rx.waitFor(1, 'credits.refunded');
    expect(refunded[0]!.data).toMatchObject({ account_id: account, amount_micro_usd: 100 });
    expect(of('key.revoked')[0]!.data).toMatchObject({ account_id: account, key_id: keyId });
    expect(rx.rejected).toBe(0);
    // Each event once, each with its own id.
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(rx.received.length);
  });

  it('a receiver failing: retried with backoff, listed with its error, marked failed after the tries, then retried by the operator', async () => {
    rx.failWith = 500;
    const created = await admin('/admin/keys', { label: 'retry me' });
    const keyId = created.body.key_id;
    const mine = async () => ((await admin('/admin/webhooks/deliveries?limit=200')).body.deliveries as any[]).find((d) => d.type === 'key.created' && d.event_id && d.account_id === created.body.account_id);
    // 4 tries, 50 ms doubling (±20%): under a second in all.
    let d;
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      d = await mine();
      if (d?.status === 'failed') break;
    }
    expect(d).toMatchObject({ status: 'failed', attempts: 4, last_error: 'HTTP 500', next_attempt_at: null, url: rx.url });
    const failed = await admin('/admin/webhooks/deliveries?status=failed');
    expect(failed.body.deliveries.map((x: any) => x.id)).toContain(d.id);
    rx.failWith = undefined;
    const retried = await admin(`/admin/webhooks/deliveries/${d.id}/retry`, {});
    expect(retried.status).toBe(200);
    // Pending with its tries back (the worker, nudged, may have claimed it already).
    expect(retried.body.delivery).toMatchObject({ id: d.id, status: 'pending' });
    expect(retried.body.delivery.attempts).toBeLessThanOrEqual(1);
    for (const end = Date.now() + 10_000; !rx.received.some((r) => r.data.key_id === keyId) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
    const got = rx.received.filter((r) => r.data.key_id === keyId);
    expect(got).toHaveLength(1);
    expect(got[0]!.id).toBe(d.event_id);
    for (const end = Date.now() + 5000; (await mine()).status !== 'delivered' && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect((await mine()).status).toBe('delivered');
    expect((await admin('/admin/webhooks/deliveries/bm9wZQ.evt_x.ep/retry', {})).status).toBe(404);
    // Every attempt is counted for /metrics: the 3 retried and the failed try of this delivery among them.
    const metrics = (await call(`${m.url}/metrics`, { key: ADMIN_TOKEN })).text;
    const count = (outcome: string) => Number(new RegExp(`aipaygent_webhook_deliveries_total\\{event="key.created",outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('failed')).toBeGreaterThanOrEqual(1);
    expect(count('retried')).toBeGreaterThanOrEqual(3);
    expect(count('delivered')).toBeGreaterThanOrEqual(2);
    expect((await admin('/admin/webhooks/deliveries?cursor=%%%')).status).toBe(400);
  });
});
