// The `claude` options of createAipaygent(), their validation, and the model catalogue they define.
import { DEFAULT_PRICES } from './default-prices.js';
import { parseClaudeMemoryOptions, type ClaudeMemoryConfig, type ClaudeMemoryOptions } from './memory-options.js';
import type { ModelPrice, TokenRates } from './prices.js';

/** Per-model price given as an option: a new model needs `input` and `output`; the rest defaults. */
export type ModelPriceOption = Partial<Omit<ModelPrice, 'longPrompt'>> & { longPrompt?: ModelPrice['longPrompt'] };

/** Options of the Claude proxy (`POST /claude/message`, `POST /v1/messages`). */
export interface ClaudeOptions {
  /** The operator's Anthropic API key. Passed to the SDK explicitly: its environment fallbacks are never read. */
  apiKey: string;
  /** Where the Anthropic API is. @default "https://api.anthropic.com" */
  baseURL?: string;
  /** Milliseconds allowed for the upstream to start answering, and the longest silence inside a response. @default 600000 */
  timeoutMs?: number;
  /** Retries of a failed upstream attempt (429, 529, 5xx, connection errors), done by the SDK. @default 2 */
  maxRetries?: number;
  /** `max_tokens` when the request gives none (the article's examples give none). @default 1024 */
  defaultMaxTokens?: number;
  /** Largest `max_tokens` accepted; a request above it is a 400. @default 64000 */
  maxTokensCap?: number;
  /** A call paid by one of today's free calls has its `max_tokens` lowered to this. @default 1024 */
  freeMaxTokens?: number;
  /** Only these upstream model ids are served (checked after `aliases`). @default every model with a price */
  models?: string[];
  /**
   * Requested model id -> the id sent upstream and priced, e.g. a retired model to its successor:
   * `{ 'claude-3-5-sonnet-20241022': 'claude-sonnet-4-6' }`.
   * @default {}
   */
  aliases?: Record<string, string>;
  /**
   * Overrides or additions to the price table, in micro-USD per million tokens ($3 / MTok = 3000000).
   * A new model needs `input` and `output`; cache prices default to 1.25x, 2x and 0.1x `input`.
   * @default the published prices in `DEFAULT_PRICES` (see `DEFAULT_PRICES_CHECKED`)
   */
  prices?: Record<string, ModelPriceOption>;
  /** Percent added to the upstream cost (two decimals at most), e.g. 20 for +20%. @default 0 */
  markupPercent?: number;
  /** Memory-aware calls: context injection and the server-side memory tool (see ClaudeMemoryOptions). @default the defaults of each field */
  memory?: ClaudeMemoryOptions;
  /**
   * `POST /v1/messages/count_tokens` calls allowed per API key per minute (free, but each one is an
   * upstream call: the limit keeps a key from flooding the operator's Anthropic account). Claude Code
   * sends dozens as it starts. 0 turns the route off (404).
   * @default 120
   */
  countTokensPerMinute?: number;
  /**
   * The `anthropic-beta` values clients may send (a request naming another is a 400). Betas can turn on
   * features that cost more (1M-token context) or reach elsewhere (MCP connector, files).
   * @default undefined: every beta is passed on
   */
  betas?: string[];
}

/** The validated Claude configuration. */
export interface ClaudeConfig {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  maxRetries: number;
  defaultMaxTokens: number;
  maxTokensCap: number;
  freeMaxTokens: number;
  prices: ReadonlyMap<string, ModelPrice>;
  aliases: ReadonlyMap<string, string>;
  models: ReadonlySet<string> | null;
  /** Markup in basis points (1/100 of a percent), so that every computation stays in integers. */
  markupBps: number;
  memory: ClaudeMemoryConfig;
  countTokensPerMinute: number;
  /** null: every beta passes. */
  betas: ReadonlySet<string> | null;
}

const RATE_NAMES = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const;
const MAX_RATE = 1_000_000_000_000;
const isCount = (v: unknown, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function parsePrice(id: string, given: ModelPriceOption, base: ModelPrice | undefined, problems: string[]): ModelPrice | undefined {
  const where = `claude.prices["${id}"]`;
  if (given === null || typeof given !== 'object') return void problems.push(`${where} must be an object`);
  const input = given.input ?? base?.input;
  const output = given.output ?? base?.output;
  if (input === undefined || output === undefined) return void problems.push(`${where} is a new model: it needs input and output prices`);
  const merged: ModelPrice = {
    input, output,
    cacheWrite5m: given.cacheWrite5m ?? base?.cacheWrite5m ?? Math.ceil((input * 5) / 4),
    cacheWrite1h: given.cacheWrite1h ?? base?.cacheWrite1h ?? input * 2,
    cacheRead: given.cacheRead ?? base?.cacheRead ?? Math.ceil(input / 10),
    webSearch: given.webSearch ?? base?.webSearch ?? 10_000,
  };
  const longPrompt = given.longPrompt === undefined ? base?.longPrompt : given.longPrompt;
  const checks: Array<[string, unknown]> = [...RATE_NAMES.map((n) => [n, merged[n]] as [string, unknown]), ['webSearch', merged.webSearch]];
  if (longPrompt !== undefined) {
    if (longPrompt === null || typeof longPrompt !== 'object') return void problems.push(`${where}.longPrompt must be an object`);
    for (const n of [...RATE_NAMES, 'aboveTokens'] as const) checks.push([`longPrompt.${n}`, (longPrompt as Partial<TokenRates & { aboveTokens: number }>)[n]]);
    merged.longPrompt = longPrompt;
  }
  const bad = checks.filter(([, v]) => !isCount(v, MAX_RATE)).map(([n]) => n);
  if (bad.length) return void problems.push(`${where}: ${bad.join(', ')} must be integers of micro-USD per million tokens (0..${MAX_RATE})`);
  return merged;
}

/** Validates `claude` options, pushing every problem found; undefined when the proxy is off. */
export function parseClaudeOptions(options: ClaudeOptions | undefined, problems: string[]): ClaudeConfig | undefined {
  if (options === undefined) return undefined;
  const p = problems.length;
  const int = (name: keyof ClaudeOptions, fallback: number, min: number, max: number): number => {
    const v = options[name];
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) problems.push(`claude.${name} must be an integer between ${min} and ${max} (got ${String(v)})`);
    return v as number;
  };
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') problems.push('claude.apiKey must be the Anthropic API key (a non-empty string)');
  const baseURL = options.baseURL ?? 'https://api.anthropic.com';
  if (typeof baseURL !== 'string' || !URL.canParse(baseURL) || !/^https?:$/.test(new URL(baseURL).protocol)) problems.push('claude.baseURL must be an http(s) URL');
  const config: ClaudeConfig = {
    apiKey: options.apiKey,
    baseURL,
    timeoutMs: int('timeoutMs', 600_000, 100, 3_600_000),
    maxRetries: int('maxRetries', 2, 0, 10),
    defaultMaxTokens: int('defaultMaxTokens', 1024, 1, 1_000_000),
    maxTokensCap: int('maxTokensCap', 64_000, 1, 1_000_000),
    freeMaxTokens: int('freeMaxTokens', 1024, 1, 1_000_000),
    prices: new Map(),
    aliases: new Map(),
    models: null,
    markupBps: 0,
    memory: parseClaudeMemoryOptions(options.memory, problems),
    countTokensPerMinute: int('countTokensPerMinute', 120, 0, 1_000_000),
    betas: null,
  };
  if (options.betas !== undefined) {
    if (!Array.isArray(options.betas) || options.betas.some((b) => typeof b !== 'string' || !/^[A-Za-z0-9._-]+$/.test(b))) {
      problems.push('claude.betas must be an array of anthropic-beta names (letters, digits, ".", "_", "-")');
    } else config.betas = new Set(options.betas);
  }
  const prices = new Map(Object.entries(DEFAULT_PRICES));
  for (const [id, given] of Object.entries(options.prices ?? {})) {
    const parsed = parsePrice(id, given, prices.get(id), problems);
    if (parsed) prices.set(id, parsed);
  }
  config.prices = prices;
  for (const [from, to] of Object.entries(options.aliases ?? {})) {
    if (typeof to !== 'string' || !prices.has(to)) problems.push(`claude.aliases["${from}"] must name a model with a price (got ${JSON.stringify(to)})`);
    else (config.aliases as Map<string, string>).set(from, to);
  }
  if (options.models !== undefined) {
    if (!Array.isArray(options.models) || options.models.length === 0) problems.push('claude.models must be a non-empty array of model ids');
    else {
      const unpriced = options.models.filter((m) => typeof m !== 'string' || !prices.has(m));
      if (unpriced.length) problems.push(`claude.models has models without a price (add them to claude.prices): ${unpriced.join(', ')}`);
      config.models = new Set(options.models);
    }
  }
  const markup = options.markupPercent ?? 0;
  const bps = Math.round(markup * 100);
  if (typeof markup !== 'number' || !(markup >= 0 && markup <= 1000) || Math.abs(bps - markup * 100) > 1e-6) {
    problems.push('claude.markupPercent must be a number between 0 and 1000 with at most two decimals');
  } else config.markupBps = bps;
  if (config.defaultMaxTokens > config.maxTokensCap) problems.push('claude.defaultMaxTokens must not exceed claude.maxTokensCap');
  return problems.length > p ? undefined : config;
}

export type ModelChoice = { ok: true; requested: string; model: string; price: ModelPrice } | { ok: false; message: string };

/** The upstream model and its price for a requested id: aliases first, then the allowlist and the price table. */
export function chooseModel(config: ClaudeConfig, requested: string): ModelChoice {
  const model = config.aliases.get(requested) ?? requested;
  const price = config.prices.get(model);
  if (!price || (config.models && !config.models.has(model))) {
    return { ok: false, message: `model "${requested}" is not available on this server` };
  }
  return { ok: true, requested, model, price };
}

/**
 * The client's `anthropic-beta` header as sent upstream (several headers join with ","), or the
 * first beta `claude.betas` does not allow.
 */
export function checkBetas(config: ClaudeConfig, raw: string | string[] | undefined): { ok: true; beta: string | undefined } | { ok: false; message: string } {
  const beta = Array.isArray(raw) ? raw.join(',') : raw;
  if (!beta || !config.betas) return { ok: true, beta };
  for (const name of beta.split(',')) {
    const b = name.trim();
    if (b && !config.betas.has(b)) return { ok: false, message: `anthropic-beta "${b}" is not enabled on this server (allowed: ${[...config.betas].join(', ') || 'none'})` };
  }
  return { ok: true, beta };
}
