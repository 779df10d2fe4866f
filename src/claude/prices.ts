// Token prices and the exact cost of a Claude call: integer micro-USD, rounded up, markup included.

/** Prices of one kind of token use, in micro-USD per million tokens ($3 / MTok = 3_000_000). */
export interface TokenRates {
  /** Uncached input tokens. */
  input: number;
  output: number;
  /** Input written to the 5-minute prompt cache. */
  cacheWrite5m: number;
  /** Input written to the 1-hour prompt cache. */
  cacheWrite1h: number;
  /** Input read from the prompt cache (hits and refreshes). */
  cacheRead: number;
}

/** The price of one model. */
export interface ModelPrice extends TokenRates {
  /** micro-USD per server-side web search (`usage.server_tool_use.web_search_requests`). */
  webSearch: number;
  /**
   * Higher rates applied to every token of a request whose prompt (input + cache writes + cache
   * reads) exceeds `aboveTokens`, as Anthropic bills long prompts on some models.
   */
  longPrompt?: TokenRates & { aboveTokens: number };
}

/** Token counts of one call, normalized from Anthropic's `usage` object. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  webSearches: number;
}

export const emptyUsage = (): TokenUsage => ({ input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0, webSearches: 0 });

const count = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined);

/**
 * Folds an Anthropic `usage` object (of a Message, `message_start` or `message_delta`) into `into`.
 * Counts in `message_delta` are cumulative, so a field present here replaces the one seen before:
 * it is never added.
 */
export function applyUsage(into: TokenUsage, usage: unknown): TokenUsage {
  if (usage === null || typeof usage !== 'object') return into;
  const u = usage as Record<string, unknown>;
  const input = count(u.input_tokens);
  if (input !== undefined) into.input = input;
  const output = count(u.output_tokens);
  if (output !== undefined) into.output = output;
  const read = count(u.cache_read_input_tokens);
  if (read !== undefined) into.cacheRead = read;
  const split = u.cache_creation as Record<string, unknown> | null | undefined;
  const w5 = count(split?.ephemeral_5m_input_tokens);
  const w1 = count(split?.ephemeral_1h_input_tokens);
  if (w5 !== undefined || w1 !== undefined) {
    into.cacheWrite5m = w5 ?? 0;
    into.cacheWrite1h = w1 ?? 0;
  } else {
    // Without the TTL split, the total is what we know: whatever is not known to be 1-hour is 5-minute.
    const writes = count(u.cache_creation_input_tokens);
    if (writes !== undefined) {
      into.cacheWrite1h = Math.min(into.cacheWrite1h, writes);
      into.cacheWrite5m = writes - into.cacheWrite1h;
    }
  }
  const searches = count((u.server_tool_use as Record<string, unknown> | null | undefined)?.web_search_requests);
  if (searches !== undefined) into.webSearches = searches;
  return into;
}

/** The rates that apply to a request with `promptTokens` of prompt. */
export function ratesFor(price: ModelPrice, promptTokens: number): TokenRates {
  return price.longPrompt && promptTokens > price.longPrompt.aboveTokens ? price.longPrompt : price;
}

const PER_MILLION = 1_000_000n;
const BPS = 10_000n;

/** ceil(tokenMicroUsdPerMillion / 1e6 + fixed) x (1 + markup), exactly (BigInt: the products exceed 2^53). */
function total(perMillionSum: bigint, fixedMicro: bigint, markupBps: number): number {
  const numerator = (perMillionSum + fixedMicro * PER_MILLION) * (BPS + BigInt(markupBps));
  const denominator = PER_MILLION * BPS;
  return Number((numerator + denominator - 1n) / denominator);
}

/** What a call with this usage costs the caller, in micro-USD, rounded up, markup included. */
export function costOf(price: ModelPrice, u: TokenUsage, markupBps: number): number {
  const r = ratesFor(price, u.input + u.cacheWrite5m + u.cacheWrite1h + u.cacheRead);
  const B = BigInt;
  const sum =
    B(u.input) * B(r.input) + B(u.output) * B(r.output) + B(u.cacheWrite5m) * B(r.cacheWrite5m) +
    B(u.cacheWrite1h) * B(r.cacheWrite1h) + B(u.cacheRead) * B(r.cacheRead);
  return total(sum, B(u.webSearches) * B(price.webSearch), markupBps);
}

/**
 * The most a call can cost before it runs: every estimated prompt token at the dearest input rate
 * (a 1-hour cache write), `maxTokens` of output, and `maxSearches` web searches.
 */
export function worstCaseCost(price: ModelPrice, promptTokens: number, maxTokens: number, maxSearches: number, markupBps: number): number {
  const r = ratesFor(price, promptTokens);
  const dearestInput = Math.max(r.input, r.cacheWrite5m, r.cacheWrite1h, r.cacheRead);
  const sum = BigInt(promptTokens) * BigInt(dearestInput) + BigInt(maxTokens) * BigInt(r.output);
  return total(sum, BigInt(maxSearches) * BigInt(price.webSearch), markupBps);
}
