// Unit: exact USD formatting, and the meter's options (parseOptions, environment variables).
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import { optionsFromEnv } from '../../src/env.js';
import { formatUsd } from '../../src/ledger/money.js';

describe('formatUsd', () => {
  it('formats integer micro-USD exactly, with six decimals', () => {
    expect([0, 1, 100, 999_999, 1_000_000, 1_250_000, -5, -1_000_001, 9_007_199_254_740_991].map(formatUsd)).toEqual([
      '0.000000', '0.000001', '0.000100', '0.999999', '1.000000', '1.250000', '-0.000005', '-1.000001', '9007199254.740991',
    ]);
  });
  it('refuses what is not a safe integer', () => {
    for (const bad of [0.5, Number.NaN, 2 ** 53]) expect(() => formatUsd(bad)).toThrow(TypeError);
  });
});

describe('meter options', () => {
  it('defaults: 10 free calls a day, 100 micro-USD per memory call, no rate limit', () => {
    const c = parseOptions({});
    expect(c.freeCallsPerDay).toBe(10);
    // Every fixed-price memory route costs 100 micro-USD by default, whichever routes exist.
    expect(Object.keys(c.pricing)).toEqual(expect.arrayContaining(['/memory/store', '/memory/retrieve', '/memory/list', '/memory/delete', '/memory/append']));
    expect(new Set(Object.values(c.pricing))).toEqual(new Set([100]));
    expect(c.rateLimit).toBeUndefined();
    expect(parseOptions({ pricing: { '/memory/store': 7 }, rateLimit: { requests: 5 } })).toMatchObject({
      pricing: { '/memory/store': 7, '/memory/list': 100 }, rateLimit: { requests: 5, windowSeconds: 60 },
    });
  });
  it('lists every problem in one error', () => {
    let message = '';
    try {
      parseOptions({ freeCallsPerDay: -1, pricing: { '/memory/store': 0.5, '/nope': 1 } as never, rateLimit: { requests: 0, windowSeconds: 0 } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/freeCallsPerDay must be an integer between 0 and 1000000/);
    expect(message).toMatch(/pricing\["\/memory\/store"\] must be an integer between 1/);
    expect(message).toMatch(/pricing: unknown endpoint "\/nope"/);
    expect(message).toMatch(/rateLimit.requests must be an integer/);
    expect(message).toMatch(/rateLimit.windowSeconds must be an integer between 1 and 86400/);
  });
  it('reads them from the environment of the standalone server', () => {
    const o = optionsFromEnv({
      AIPAYGENT_FREE_CALLS_PER_DAY: '3', AIPAYGENT_PRICING: '{"/memory/store":250}',
      AIPAYGENT_RATE_LIMIT_REQUESTS: '100', AIPAYGENT_RATE_LIMIT_WINDOW_SECONDS: '10',
    });
    expect(o).toMatchObject({ freeCallsPerDay: 3, pricing: { '/memory/store': 250 }, rateLimit: { requests: 100, windowSeconds: 10 } });
    expect(optionsFromEnv({})).toMatchObject({ freeCallsPerDay: undefined, pricing: undefined, rateLimit: undefined });
    expect(() => optionsFromEnv({ AIPAYGENT_PRICING: '[1]' })).toThrow(/AIPAYGENT_PRICING must be a JSON object/);
  });
  it('usage counters: on for 400 days by default, retentionDays checked, false or AIPAYGENT_USAGE_RETENTION_DAYS=0 turns them off', () => {
    expect(parseOptions({}).usage).toEqual({ retentionDays: 400 });
    expect(parseOptions({ usage: { retentionDays: 30 } }).usage).toEqual({ retentionDays: 30 });
    expect(parseOptions({ usage: false }).usage).toBeUndefined();
    expect(parseOptions({ usage: true }).usage).toEqual({ retentionDays: 400 });
    expect(() => parseOptions({ usage: { retentionDays: 0 } })).toThrow(/usage.retentionDays must be an integer between 1 and 3650 \(got 0\)/);
    expect(() => parseOptions({ usage: 'yes' as never })).toThrow(/usage must be true, false or an object/);
    expect(optionsFromEnv({ AIPAYGENT_USAGE_RETENTION_DAYS: '90' }).usage).toEqual({ retentionDays: 90 });
    expect(optionsFromEnv({ AIPAYGENT_USAGE_RETENTION_DAYS: '0' }).usage).toBe(false);
    expect(optionsFromEnv({}).usage).toBeUndefined();
  });
});

describe('the 402 payment object', () => {
  it('states price, balance and shortfall exactly, and merges the payments module\'s buy instructions', async () => {
    const { paymentRequired } = await import('../../src/ledger/payment-required.js');
    const seen: unknown[] = [];
    const error = await paymentRequired(
      { accountId: 'acct_x', price: 250, balance: 100, freeCallsPerDay: 10, freeCallsRemaining: 0, freeCallsResetAt: Date.UTC(2026, 10, 25) },
      {
        buy: async (ctx) => {
          seen.push(ctx);
          return { network: 'base', token: 'USDC', receiver: '0xabc' };
        },
      },
    );
    expect(error.status).toBe(402);
    expect(error.code).toBe('payment_required');
    expect(seen).toEqual([{ accountId: 'acct_x', price: 250, balance: 100 }]);
    expect(error.extra!.payment).toEqual({
      currency: 'USD', price_micro_usd: 250, price_usd: '0.000250', balance_micro_usd: 100, balance_usd: '0.000100',
      shortfall_micro_usd: 150, shortfall_usd: '0.000150', free_calls_per_day: 10, free_calls_remaining: 0,
      free_calls_reset_at: '2026-11-25T00:00:00.000Z',
      buy: {
        instructions: { method: 'GET', path: '/buy-credits' },
        purchase: { method: 'POST', path: '/buy-credits', body: { tx_hash: '<hash of your USDC transfer>' } },
        balance: { method: 'GET', path: '/credits/balance' },
        network: 'base', token: 'USDC', receiver: '0xabc',
      },
    });
  });
});
