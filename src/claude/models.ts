// The models this server sells, as Anthropic's Models API shows them (GET /v1/models), with our prices.
import { DEFAULT_PRICES_CHECKED } from './default-prices.js';
import type { ClaudeConfig } from './options.js';
import type { ModelPrice } from './prices.js';

/** Our price of a model: what a caller pays (markup included), in micro-USD per million tokens. */
export interface ModelPricing {
  unit: 'micro-USD per million tokens';
  input: number;
  output: number;
  cache_write_5m: number;
  cache_write_1h: number;
  cache_read: number;
  /** micro-USD per server-side web search. */
  web_search: number;
  /** Rates of every token of a request whose prompt exceeds `above_tokens`, on the models priced by prompt length. */
  long_prompt?: { above_tokens: number; input: number; output: number; cache_write_5m: number; cache_write_1h: number; cache_read: number };
}

/** A model object in Anthropic's shape (`type: "model"`), plus aipaygent's fields. */
export interface ModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  /** What this server charges for it. */
  aipaygent_pricing: ModelPricing;
  /** For an alias: the model sent upstream and priced. */
  aipaygent_alias_of?: string;
}

/** Anthropic's list page. */
export interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** "claude-3-5-sonnet-20241022" -> "Claude 3.5 Sonnet"; "claude-opus-4-1" -> "Claude Opus 4.1". */
export function displayName(id: string): string {
  const words = id.replace(/-\d{8}$/, '').replace(/-latest$/, '').split('-');
  const out: string[] = [];
  for (const w of words) {
    const prev = out.at(-1);
    // Consecutive numbers are a version: 3-5 -> 3.5.
    if (/^\d+$/.test(w) && prev !== undefined && /^\d+(\.\d+)*$/.test(prev)) out[out.length - 1] = `${prev}.${w}`;
    else out.push(w.charAt(0).toUpperCase() + w.slice(1));
  }
  return out.join(' ') + (id.endsWith('-latest') ? ' (latest)' : '');
}

/** The date in a dated id ("…-20241022"), else the day the price table was checked: Anthropic's field is required. */
function createdAt(id: string): string {
  const d = /-(\d{4})(\d{2})(\d{2})$/.exec(id);
  return d ? `${d[1]}-${d[2]}-${d[3]}T00:00:00Z` : `${DEFAULT_PRICES_CHECKED}T00:00:00Z`;
}

/** micro-USD per million tokens with the markup, rounded up as costs are. */
const marked = (rate: number, markupBps: number): number => Math.ceil((rate * (10_000 + markupBps)) / 10_000);

function pricing(p: ModelPrice, markupBps: number): ModelPricing {
  const m = (r: number) => marked(r, markupBps);
  return {
    unit: 'micro-USD per million tokens',
    input: m(p.input), output: m(p.output), cache_write_5m: m(p.cacheWrite5m), cache_write_1h: m(p.cacheWrite1h), cache_read: m(p.cacheRead),
    web_search: m(p.webSearch),
    ...(p.longPrompt && {
      long_prompt: {
        above_tokens: p.longPrompt.aboveTokens, input: m(p.longPrompt.input), output: m(p.longPrompt.output),
        cache_write_5m: m(p.longPrompt.cacheWrite5m), cache_write_1h: m(p.longPrompt.cacheWrite1h), cache_read: m(p.longPrompt.cacheRead),
      },
    }),
  };
}

/**
 * Every model id a request may name: the priced models the allowlist admits (in price-table order,
 * newest first as Anthropic lists them), then the aliases that lead to one of them.
 */
export function modelCatalogue(config: ClaudeConfig): ModelInfo[] {
  const out: ModelInfo[] = [];
  const served = (id: string) => config.prices.has(id) && (!config.models || config.models.has(id));
  for (const [id, price] of config.prices) {
    if (!served(id) || config.aliases.has(id)) continue;
    out.push({ type: 'model', id, display_name: displayName(id), created_at: createdAt(id), aipaygent_pricing: pricing(price, config.markupBps) });
  }
  for (const [alias, target] of config.aliases) {
    if (!served(target)) continue;
    out.push({
      type: 'model', id: alias, display_name: displayName(alias), created_at: createdAt(alias),
      aipaygent_pricing: pricing(config.prices.get(target)!, config.markupBps), aipaygent_alias_of: target,
    });
  }
  return out;
}

export type PageRequest = { limit: number; after_id?: string | undefined; before_id?: string | undefined };

/** One page as Anthropic pages: after `after_id`, or the `limit` models just before `before_id`; null when a cursor is unknown. */
export function modelPage(all: readonly ModelInfo[], q: PageRequest): ModelPage | null {
  let start = 0;
  let end = all.length;
  if (q.after_id !== undefined) {
    const i = all.findIndex((m) => m.id === q.after_id);
    if (i === -1) return null;
    start = i + 1;
  }
  if (q.before_id !== undefined) {
    const i = all.findIndex((m) => m.id === q.before_id);
    if (i === -1) return null;
    end = i;
    start = Math.max(start, end - q.limit);
  }
  const data = all.slice(start, Math.min(end, start + q.limit));
  const hasMore = q.before_id !== undefined ? start > 0 : start + data.length < end;
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
