// Memory context injection: the selected memories of a user, in a fixed format, appended to the system prompt.
//
// Format (one system text block, after the client's own system blocks so that a cache_control
// breakpoint the client set on its system prompt keeps its cached prefix):
//
//   Memories stored for this user in earlier sessions (JSON values, one per key):
//   <memories>
//   <memory key="coding_preferences">{"language":"Python"}</memory>
//   <memory key="notes/todo.md" truncated="true">"- buy mi</memory>
//   </memories>
//
// Memories selected by `keys` and `prefix` come first, sorted by key (JavaScript string order: UTF-16
// code units), then those the search `query` found, best first. The JSON is the stored
// text with "<", ">" and "&" written as \u003c, \u003e, \u0026 (same JSON value), so no memory can
// close its tag; keys are XML-escaped. Budget: estimated tokens (UTF-8 bytes / 3, the billing's
// estimator) of the whole block. Memories are taken in that order while they fit whole; the first one
// that does not fit is cut to fill what is left (at least MIN_CUT_TOKENS, else it is left out) and
// marked truncated="true"; every memory after it is left out.
import { AipaygentError, invalid } from '../errors.js';
import type { Refusal } from '../memory/draft.js';
import type { MemoryService } from '../memory/memory-service.js';
import { estimateTextTokens } from './estimate.js';
import type { MemorySpec } from './memory-spec.js';

export const CONTEXT_INTRO = 'Memories stored for this user in earlier sessions (JSON values, one per key):';
/** A cut memory gets at least this many tokens of its JSON, else it is left out. */
export const MIN_CUT_TOKENS = 32;

/** What was injected. `block` is null when no selected memory exists. */
export interface MemoryContext {
  block: string | null;
  /** Keys injected, in order (the cut one last). */
  keys: string[];
  /** Key of the memory that was cut, if one was. */
  cut: string | null;
  /** Selected memories that were left out for the budget. */
  omitted: number;
  /** True when the prefix selected more memories than the server's limit (the first ones by key were taken). */
  capped: boolean;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeJson = (json: string) => json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
const refusalError = (r: Refusal) => new AipaygentError(r.code, `memory.query: ${r.message}`);
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The longest start of `s` within `maxBytes` UTF-8 bytes, never splitting a surrogate pair. */
function cutToBytes(s: string, maxBytes: number): string {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(s.slice(0, mid), 'utf8') <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  const code = s.charCodeAt(lo - 1);
  return code >= 0xd800 && code <= 0xdbff ? s.slice(0, lo - 1) : s.slice(0, lo);
}

/** Formats the memories (key -> stored JSON text), in the order given, within `maxTokens`, by the rule above. */
export function formatContext(sorted: Array<{ key: string; json: string }>, maxTokens: number): Omit<MemoryContext, 'capped'> {
  const head = `${CONTEXT_INTRO}\n<memories>\n`;
  const tail = '</memories>';
  const lines: string[] = [];
  let used = head + tail;
  let cut: string | null = null;
  for (const m of sorted) {
    const line = `<memory key="${escapeAttr(m.key)}">${escapeJson(m.json)}</memory>\n`;
    if (estimateTextTokens(used + line) <= maxTokens) {
      lines.push(line);
      used += line;
      continue;
    }
    const open = `<memory key="${escapeAttr(m.key)}" truncated="true">`;
    const close = '</memory>\n';
    const room = maxTokens * 3 - Buffer.byteLength(used + open + close, 'utf8');
    if (room >= MIN_CUT_TOKENS * 3) {
      lines.push(open + cutToBytes(escapeJson(m.json), room) + close);
      cut = m.key;
    }
    break;
  }
  const keys = sorted.slice(0, lines.length).map((m) => m.key);
  return { block: lines.length ? head + lines.join('') + tail : null, keys, cut, omitted: sorted.length - lines.length };
}

/** The text of the last user message (its text blocks joined), or '' when there is none. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.flatMap((b: { type?: unknown; text?: unknown }) => (b?.type === 'text' && typeof b.text === 'string' ? [b.text] : [])).join('\n');
    return '';
  }
  return '';
}

/**
 * The memories that best match `spec.query` ('auto': the last user message, cut to the search route's
 * longest query; a message with no word to search for selects nothing), best first, with their JSON.
 */
async function searched(memory: MemoryService, accountId: string, spec: MemorySpec, body: Record<string, unknown>, limit: number, now: number): Promise<Array<{ key: string; json: string }>> {
  const auto = spec.query === 'auto';
  const q = auto ? lastUserText(body).slice(-4096) : spec.query!;
  if (!memory.searcher) throw invalid('memory.query needs memory search, which is off on this server (the search option)');
  const out = await memory.search(accountId, { userId: spec.userId, q, limit: Math.min(limit, memory.searcher.maxLimit) }, now);
  if (!out.ok) {
    if (auto && out.refusal.code === 'invalid_request') return [];
    throw refusalError(out.refusal);
  }
  return out.results.map((r) => ({ key: r.meta.key, json: r.json! }));
}

/** Reads what `spec` selects (explicit keys, the first keys under `prefix`, the best matches of `query`) and formats it. */
export async function loadContext(memory: MemoryService, accountId: string, spec: MemorySpec, maxMemories: number, now: number, body: Record<string, unknown> = {}): Promise<MemoryContext> {
  const keys = new Set(spec.keys);
  let capped = false;
  if (spec.prefix !== undefined) {
    const listed = await memory.list(accountId, spec.userId, { prefix: spec.prefix, limit: Math.min(1000, maxMemories + 1) }, now);
    for (const m of listed) keys.add(m.key);
  }
  let selected = [...keys].sort(byKey);
  if (selected.length > maxMemories) {
    capped = true;
    selected = selected.slice(0, maxMemories);
  }
  // Reads follow the operator's refreshOnRead: memories a model keeps using stay alive when sliding expiry is on.
  const found = await Promise.all(selected.map((key) => memory.get(accountId, spec.userId, key, now)));
  const memories = selected.flatMap((key, i) => (found[i] ? [{ key, json: found[i]!.json }] : []));
  if (spec.query !== undefined && memories.length < maxMemories) {
    const chosen = new Set(selected);
    for (const m of await searched(memory, accountId, spec, body, maxMemories - memories.length, now)) if (!chosen.has(m.key)) memories.push(m);
  }
  return { ...formatContext(memories, spec.maxTokens), capped };
}

/** The body with the context appended to its system prompt (a string `system` becomes one text block). */
export function withContext(body: Record<string, unknown>, block: string): Record<string, unknown> {
  const own = body.system;
  const blocks = own === undefined || own === null || own === '' ? [] : typeof own === 'string' ? [{ type: 'text', text: own }] : Array.isArray(own) ? own : [own];
  return { ...body, system: [...blocks, { type: 'text', text: block }] };
}

/** Response headers telling what was injected: X-Memory-Keys always, X-Memory-Truncated when something was cut or left out. */
export function contextHeaders(c: MemoryContext): Record<string, string> {
  const headers: Record<string, string> = { 'x-memory-keys': c.keys.map(encodeURIComponent).join(',') };
  const parts: string[] = [];
  if (c.omitted > 0) parts.push(`omitted=${c.omitted}`);
  if (c.cut !== null) parts.push(`cut=${encodeURIComponent(c.cut)}`);
  if (c.capped) parts.push('capped');
  if (parts.length) headers['x-memory-truncated'] = parts.join('; ');
  return headers;
}
