// Claude holds count against spend caps: a hold whose worst case exceeds the cap is a 402 naming it (no upstream call);
// an outstanding hold uses the cap up for a concurrent call; the settle gives the unused part back. On memory, SQLite, Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix } from '../support/cleanup.js';
import { ledger, OPERATOR_KEY, useFakeAnthropic } from '../support/claude.js';
import { json, message } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, BACKENDS, call, startMount, type Mounted } from '../support/mounts.js';

const fake = useFakeAnthropic();
const MODEL = 'claude-3-5-sonnet-20241022';
// Sonnet 3.5: $3 in, $15 out per MTok; the fake reports 25 in, 7 out.
const CALL_COST = 180;
const body = { model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] };

const locations: Record<string, () => Promise<{ store: string; storePrefix: string } | null>> = {
  memory: async () => ({ store: 'memory', storePrefix: 'apg:' }),
  sqlite: BACKENDS.sqlite!,
  redis: BACKENDS.redis!,
  postgres: BACKENDS.postgres!,
};

for (const [name, locate] of Object.entries(locations)) {
  const location = await locate();
  (location ? describe : describe.skip)(`Claude holds and spend caps [${name}]`, () => {
    let m: Mounted;
    /** The hold of one call of `body` (its worst case plus one), measured on an uncapped key. */
    let hold: number;
    beforeAll(async () => {
      m = await startMount('core', {
        parsed: false, prefix: '',
        options: { ...location!, freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5000 } },
      });
      const { key } = await capped(undefined);
      expect((await claude(key)).status).toBe(200);
      hold = -(await ledger(m, key)).find((e) => e.kind === 'hold')!.amount_micro_usd;
      // A hold well above the call's cost: two fit in the caps below only while none is outstanding.
      expect(hold).toBeGreaterThan(4 * CALL_COST);
    });
    afterAll(async () => {
      await m?.close();
      if (location!.store !== 'memory') await dropPrefix(location!.store, location!.storePrefix);
    });

    /** A key with `cap` as its own daily spend cap, on an account with plenty of credit. */
    async function capped(cap: number | undefined): Promise<{ key: string; account: string }> {
      const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: cap === undefined ? {} : { daily_spend_cap_micro_usd: cap } });
      expect(r.status).toBe(201);
      const g = await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: r.body.account_id, amount_micro_usd: 1_000_000, reason: 'caps' } });
      expect(g.status).toBe(201);
      return { key: r.body.api_key, account: r.body.account_id };
    }
    const claude = (key: string, path = '/claude/message') => call(`${m.url}${path}`, { key, body });
    const balance = async (key: string) => (await call(`${m.url}/credits/balance`, { key })).body.balance_micro_usd as number;

    it("a hold above the key's daily cap: 402 naming the cap, nothing held, no upstream call", async () => {
      const { key } = await capped(hold - 1);
      const upstreamBefore = fake.requests.length;
      const r = await claude(key);
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('payment_required');
      expect(r.body.payment).toMatchObject({ balance_micro_usd: 1_000_000, spend_cap: { cap: 'key_daily', limit_micro_usd: hold - 1, buying_credit_lifts_it: false } });
      // The Anthropic-compatible route: the same 402 in Anthropic's error shape.
      const v1 = await claude(key, '/v1/messages');
      expect(v1.status).toBe(402);
      expect(v1.body).toMatchObject({ type: 'error', payment: { spend_cap: { cap: 'key_daily' } } });
      expect(fake.requests.length).toBe(upstreamBefore);
      expect(await balance(key)).toBe(1_000_000);
      expect((await ledger(m, key)).filter((e) => e.kind !== 'grant')).toEqual([]);
    });

    /** A call of `key` held upstream (its hold placed) until `release()`. */
    async function heldUpstream(key: string) {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      fake.once(async (req, res) => {
        await gate;
        json(res, message({ model: req.body.model }));
      });
      const upstreamBefore = fake.requests.length;
      const first = claude(key);
      for (const end = Date.now() + 10_000; fake.requests.length === upstreamBefore && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
      return { first, release };
    }

    it('a cap that fits one hold but not two: the concurrent call is refused while the first hold is out; the settle gives the rest back', async () => {
      // One hold fits, two do not; after 2 settled calls a hold still fits, after 3 it does not.
      const cap = hold + 2 * CALL_COST + 40;
      const { key } = await capped(cap);
      const upstreamBefore = fake.requests.length;
      const { first, release } = await heldUpstream(key);
      expect(fake.requests.length).toBe(upstreamBefore + 1);
      const second = await claude(key);
      expect(second.status).toBe(402);
      expect(second.body.payment.spend_cap).toMatchObject({ cap: 'key_daily', limit_micro_usd: cap });
      expect(fake.requests.length).toBe(upstreamBefore + 1);
      release();
      const done = await first;
      expect(done.status).toBe(200);
      expect(done.headers.get('x-cost-micro-usd')).toBe(String(CALL_COST));
      // Settled: only the cost counts now, so two more calls fit in turn.
      expect((await claude(key)).status).toBe(200);
      expect((await claude(key)).status).toBe(200);
      expect(await balance(key)).toBe(1_000_000 - 3 * CALL_COST);
      // 540 spent of hold + 400: what is left no longer covers a hold.
      const refused = await claude(key);
      expect(refused.status).toBe(402);
      expect(refused.body.payment.spend_cap.cap).toBe('key_daily');
      expect(await balance(key)).toBe(1_000_000 - 3 * CALL_COST);
    });

    it("the account's daily cap counts the holds of all its keys", async () => {
      const { key, account } = await capped(undefined);
      const patched = await call(`${m.url}/admin/accounts/${account}/settings`, { key: ADMIN_TOKEN, body: { daily_spend_cap_micro_usd: hold + CALL_COST }, method: 'PATCH' });
      expect(patched.status).toBe(200);
      const other = (await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: { account_id: account } })).body.api_key as string;
      const { first, release } = await heldUpstream(key);
      const refused = await claude(other);
      expect(refused.status).toBe(402);
      expect(refused.body.payment.spend_cap).toMatchObject({ cap: 'account_daily', limit_micro_usd: hold + CALL_COST });
      release();
      expect((await first).status).toBe(200);
      // 180 spent of hold + 180: a hold fits again, from either key.
      expect((await claude(other)).status).toBe(200);
    });
  });
}
