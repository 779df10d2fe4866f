// The default price table: Anthropic's published prices of current and older Claude models, dated.
import type { ModelPrice, TokenRates } from './prices.js';

/**
 * When the table was last checked against https://platform.claude.com/docs/en/about-claude/pricing
 * and the model pages. Prices change: operators override or extend entries with the `claude.prices`
 * option rather than waiting for a release.
 */
export const DEFAULT_PRICES_CHECKED = '2026-11-24';

/** $10 per 1,000 searches, the same on every model. */
const WEB_SEARCH = 10_000;

// Arguments in micro-USD per million tokens: input, output, 5-minute cache write, 1-hour cache write, cache read.
const rates = (input: number, output: number, cacheWrite5m: number, cacheWrite1h: number, cacheRead: number): TokenRates => ({
  input, output, cacheWrite5m, cacheWrite1h, cacheRead,
});
const price = (r: TokenRates, longPrompt?: ModelPrice['longPrompt']): ModelPrice => ({ ...r, webSearch: WEB_SEARCH, ...(longPrompt && { longPrompt }) });

const OPUS_3_TO_4_1 = price(rates(15_000_000, 75_000_000, 18_750_000, 30_000_000, 1_500_000));
const OPUS_4_5_TO_5 = price(rates(5_000_000, 25_000_000, 6_250_000, 10_000_000, 500_000));
const OPUS_5_5 = price(rates(4_000_000, 20_000_000, 5_000_000, 8_000_000, 200_000));
const SONNET_3_X = price(rates(3_000_000, 15_000_000, 3_750_000, 6_000_000, 300_000));
// Sonnet 4 and 4.5 with the 1M-token context: prompts above 200K tokens pay the long-context rates.
const SONNET_4_X = price(rates(3_000_000, 15_000_000, 3_750_000, 6_000_000, 300_000), {
  aboveTokens: 200_000, ...rates(6_000_000, 22_500_000, 7_500_000, 12_000_000, 600_000),
});
const SONNET_4_6 = price(rates(3_000_000, 15_000_000, 3_750_000, 6_000_000, 300_000));
const SONNET_5 = price(rates(2_000_000, 10_000_000, 2_500_000, 4_000_000, 200_000));
// Cache reads cut from $0.20 to $0.10 on 2026-10-07.
const SONNET_5_5 = price(rates(2_000_000, 10_000_000, 2_500_000, 4_000_000, 100_000));
const HAIKU_3 = price(rates(250_000, 1_250_000, 300_000, 500_000, 30_000));
const HAIKU_3_5 = price(rates(800_000, 4_000_000, 1_000_000, 1_600_000, 80_000));
const HAIKU_4_5 = price(rates(1_000_000, 5_000_000, 1_250_000, 2_000_000, 100_000));
// Haiku 5.5 is priced by prompt length: above 100K prompt tokens, every token of the request pays more.
const HAIKU_5_5 = price(rates(100_000, 500_000, 125_000, 200_000, 10_000), {
  aboveTokens: 100_000, ...rates(500_000, 2_500_000, 625_000, 1_000_000, 50_000),
});
// Mythos models share the specifications and prices of the Fable model of the same version.
const FABLE_5 = price(rates(10_000_000, 50_000_000, 12_500_000, 20_000_000, 1_000_000));
const FABLE_5_1 = price(rates(10_000_000, 50_000_000, 12_500_000, 20_000_000, 250_000));
const FABLE_5_2 = price(rates(8_000_000, 40_000_000, 10_000_000, 16_000_000, 200_000));

/**
 * Model id -> price. Retired models keep their last published price so that an upstream which still
 * serves them (or an alias, see `claude.aliases`) bills correctly; the article's example names
 * `claude-3-5-sonnet-20241022`.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-fable-5-2': FABLE_5_2,
  'claude-mythos-5-2': FABLE_5_2,
  'claude-fable-5-1': FABLE_5_1,
  'claude-mythos-5-1': FABLE_5_1,
  'claude-fable-5': FABLE_5,
  'claude-mythos-5': FABLE_5,
  'claude-opus-5-5': OPUS_5_5,
  'claude-opus-5': OPUS_4_5_TO_5,
  'claude-opus-4-8': OPUS_4_5_TO_5,
  'claude-opus-4-7': OPUS_4_5_TO_5,
  'claude-opus-4-6': OPUS_4_5_TO_5,
  'claude-opus-4-5': OPUS_4_5_TO_5,
  'claude-opus-4-5-20251101': OPUS_4_5_TO_5,
  'claude-opus-4-1': OPUS_3_TO_4_1,
  'claude-opus-4-1-20250805': OPUS_3_TO_4_1,
  'claude-opus-4-0': OPUS_3_TO_4_1,
  'claude-opus-4-20250514': OPUS_3_TO_4_1,
  'claude-3-opus-latest': OPUS_3_TO_4_1,
  'claude-3-opus-20240229': OPUS_3_TO_4_1,
  'claude-sonnet-5-5': SONNET_5_5,
  'claude-sonnet-5': SONNET_5,
  'claude-sonnet-4-6': SONNET_4_6,
  'claude-sonnet-4-5': SONNET_4_X,
  'claude-sonnet-4-5-20250929': SONNET_4_X,
  'claude-sonnet-4-0': SONNET_4_X,
  'claude-sonnet-4-20250514': SONNET_4_X,
  'claude-3-7-sonnet-latest': SONNET_3_X,
  'claude-3-7-sonnet-20250219': SONNET_3_X,
  'claude-3-5-sonnet-latest': SONNET_3_X,
  'claude-3-5-sonnet-20241022': SONNET_3_X,
  'claude-3-5-sonnet-20240620': SONNET_3_X,
  'claude-haiku-5-5': HAIKU_5_5,
  'claude-haiku-4-5': HAIKU_4_5,
  'claude-haiku-4-5-20251001': HAIKU_4_5,
  'claude-3-5-haiku-latest': HAIKU_3_5,
  'claude-3-5-haiku-20241022': HAIKU_3_5,
  'claude-3-haiku-20240307': HAIKU_3,
};
