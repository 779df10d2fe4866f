// Unit tests: the price table, exact costs, the worst case, the usage fold and the claude options.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../src/claude/default-prices.js';
import { estimatePromptTokens, maxWebSearches } from '../../src/claude/estimate.js';
import { chooseModel, parseClaudeOptions, type ClaudeOptions } from '../../src/claude/options.js';
import { applyUsage, costOf, emptyUsage, worstCaseCost } from '../../src/claude/prices.js';
import { parseOptions } from '../../src/config.js';
import { optionsFromEnv } from '../../src/env.js';

const usage = (u: Partial<ReturnType<typeof emptyUsage>>) => ({ ...emptyUsage(), ...u });

describe('costs', () => {
  const sonnet = DEFAULT_PRICES['claude-3-5-sonnet-20241022']!;

  it("prices the article's model at its published rates", () => {
    expect(sonnet).toMatchObject({ input: 3_000_000, output: 15_000_000, cacheWrite5m: 3_750_000, cacheWrite1h: 6_000_000, cacheRead: 300_000 });
    // 1M input + 1M output = $3 + $15.
    expect(costOf(sonnet, usage({ input: 1_000_000, output: 1_000_000 }), 0)).toBe(18_000_000);
    // 25 in, 7 out: 75 + 105 = 180 micro-USD exactly.
    expect(costOf(sonnet, usage({ input: 25, output: 7 }), 0)).toBe(180);
  });

  it('bills each kind of input at its own rate and rounds up to the micro-USD', () => {
    const u = usage({ input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 });
    // 3 + 15 + 3.75 + 6 + 0.3 = 28.05 -> 29
    expect(costOf(sonnet, u, 0)).toBe(29);
    expect(costOf(sonnet, usage({ cacheRead: 10 }), 0)).toBe(3);
    expect(costOf(sonnet, usage({}), 0)).toBe(0);
    expect(costOf(sonnet, usage({ webSearches: 3 }), 0)).toBe(30_000);
  });

  it('applies the markup exactly, in basis points', () => {
    expect(costOf(sonnet, usage({ input: 1_000_000 }), 2000)).toBe(3_600_000);
    expect(costOf(sonnet, usage({ input: 1 }), 1250)).toBe(4); // 3 x 1.125 = 3.375 -> 4
    // Large counts stay exact (the products exceed 2^53).
    expect(costOf(DEFAULT_PRICES['claude-opus-4-1']!, usage({ output: 900_000_000 }), 3333)).toBe(89_997_750_000);
  });

  it('switches every token to the long-prompt rates above the threshold', () => {
    const haiku = DEFAULT_PRICES['claude-haiku-5-5']!;
    expect(costOf(haiku, usage({ input: 100_000, output: 1_000_000 }), 0)).toBe(10_000 + 500_000);
    // 60K fresh + 50K cache read = 110K prompt tokens: long-prompt rates on everything, output too.
    expect(costOf(haiku, usage({ input: 60_000, cacheRead: 50_000, output: 1_000_000 }), 0)).toBe(30_000 + 2_500 + 2_500_000);
  });

  it('reserves the worst case: the dearest input rate for the prompt, max_tokens of output', () => {
    expect(worstCaseCost(sonnet, 1000, 1024, 0, 0)).toBe(6_000 + 15_360);
    expect(worstCaseCost(sonnet, 1000, 1024, 2, 1000)).toBe(((6_000 + 15_360 + 20_000) * 11) / 10);
  });
});

describe('usage', () => {
  it('replaces cumulative counts (message_delta) instead of adding them', () => {
    const u = applyUsage(emptyUsage(), { input_tokens: 25, output_tokens: 1, cache_read_input_tokens: 10 });
    applyUsage(u, { output_tokens: 40 });
    applyUsage(u, { output_tokens: 90, input_tokens: 25 });
    expect(u).toMatchObject({ input: 25, output: 90, cacheRead: 10 });
  });

  it('uses the cache TTL split when given, else counts writes as 5-minute', () => {
    expect(applyUsage(emptyUsage(), { cache_creation_input_tokens: 30 })).toMatchObject({ cacheWrite5m: 30, cacheWrite1h: 0 });
    const split = applyUsage(emptyUsage(), { cache_creation_input_tokens: 30, cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 } });
    expect(split).toMatchObject({ cacheWrite5m: 10, cacheWrite1h: 20 });
    applyUsage(split, { cache_creation_input_tokens: 30 });
    expect(split).toMatchObject({ cacheWrite5m: 10, cacheWrite1h: 20 });
    expect(applyUsage(emptyUsage(), { server_tool_use: { web_search_requests: 2 } }).webSearches).toBe(2);
  });

  it('ignores garbage', () => {
    expect(applyUsage(emptyUsage(), { input_tokens: -1, output_tokens: 1.5 })).toEqual(emptyUsage());
    expect(applyUsage(emptyUsage(), null)).toEqual(emptyUsage());
  });
});

describe('estimate', () => {
  it('counts text bytes generously, images at their maximum, tools once', () => {
    const text = 'x'.repeat(3000);
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: text }] })).toBe(1000 + 64 + 2); // "user" counts too
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(1_000_000) } };
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: [image] }] })).toBe(1600 + 64 + 2);
    expect(estimatePromptTokens({ messages: [], tools: [{ name: 'a' }] })).toBe(1 + 64 + 1000);
    expect(maxWebSearches({ tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }, { name: 'x' }] })).toBe(3);
  });
});

describe('claude options', () => {
  const parse = (o: Partial<ClaudeOptions>) => {
    const problems: string[] = [];
    return { config: parseClaudeOptions({ apiKey: 'sk-test', ...o } as ClaudeOptions, problems), problems };
  };

  it('defaults', () => {
    const { config } = parse({});
    expect(config).toMatchObject({ baseURL: 'https://api.anthropic.com', timeoutMs: 600_000, maxRetries: 2, defaultMaxTokens: 1024, maxTokensCap: 64_000, freeMaxTokens: 1024, markupBps: 0, models: null });
    expect(config!.prices.size).toBe(Object.keys(DEFAULT_PRICES).length);
  });

  it('overrides and extends prices, maps aliases, restricts models', () => {
    const { config, problems } = parse({
      prices: { 'claude-3-5-sonnet-20241022': { output: 16_000_000 }, 'my-model': { input: 1_000_000, output: 2_000_000 } },
      aliases: { 'claude-3-5-sonnet-20241022': 'claude-sonnet-4-6', old: 'my-model' },
      models: ['claude-sonnet-4-6', 'my-model'],
      markupPercent: 12.5,
    });
    expect(problems).toEqual([]);
    expect(config!.prices.get('claude-3-5-sonnet-20241022')).toMatchObject({ input: 3_000_000, output: 16_000_000 });
    expect(config!.prices.get('my-model')).toMatchObject({ cacheWrite5m: 1_250_000, cacheWrite1h: 2_000_000, cacheRead: 100_000, webSearch: 10_000 });
    expect(config!.markupBps).toBe(1250);
    expect(chooseModel(config!, 'claude-3-5-sonnet-20241022')).toMatchObject({ ok: true, model: 'claude-sonnet-4-6' });
    expect(chooseModel(config!, 'old')).toMatchObject({ ok: true, model: 'my-model' });
    expect(chooseModel(config!, 'claude-opus-4-1')).toMatchObject({ ok: false });
    expect(chooseModel(config!, 'gpt-4')).toEqual({ ok: false, message: 'model "gpt-4" is not available on this server' });
  });

  it('reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL for the standalone server (proxy off without a key)', () => {
    expect(optionsFromEnv({ ANTHROPIC_API_KEY: 'sk-1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/' }).claude).toEqual({ apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/' });
    expect(optionsFromEnv({ ANTHROPIC_API_KEY: 'sk-1' }).claude).toEqual({ apiKey: 'sk-1', baseURL: undefined });
    expect(optionsFromEnv({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/' }).claude).toBeUndefined();
  });

  it('lists every problem in one error', () => {
    expect(() =>
      parseOptions({
        claude: {
          apiKey: '', baseURL: 'ftp://x', timeoutMs: 5, markupPercent: 1.234, models: ['nope'],
          aliases: { a: 'b' }, prices: { 'new-model': { input: 1 }, 'claude-haiku-4-5': { output: 1.5 } },
        },
      }),
    ).toThrow(
      /claude\.apiKey[\s\S]*claude\.baseURL[\s\S]*claude\.timeoutMs[\s\S]*new-model"\] is a new model[\s\S]*claude-haiku-4-5"\]: output[\s\S]*aliases\["a"\][\s\S]*claude\.models has models without a price[\s\S]*markupPercent/,
    );
  });
});
