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
// Memories are sorted by key (JavaScript string order: UTF-16 code units). The JSON is the stored
// text with "<", ">" and "&" written as \u003c, \u003e, \u0026 (same JSON value), so no memory can
// close its tag; keys are XML-escaped. Budget: estimated tokens (UTF-8 bytes / 3, the billing's
// estimator) of the whole block. Memories are taken in key order while they fit whole; the first one
// that does not fit is cut to fill what is left (at least MIN_CUT_TOKENS, else it is left out) and
// marked truncated="true"; every memory after it is left out.
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

/** Formats the memories (key -> stored JSON text) within `maxTokens`, by the rule above. */
export function formatContext(memories: Array<{ key: string; json: string }>, maxTokens: number): Omit<MemoryContext, 'capped'> {
  const sorted = [...memories].sort((a, b) => byKey(a.key, b.key));
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

/** Reads what `spec` selects (explicit keys, plus the first keys under `prefix`) and formats it. */
export async function loadContext(memory: MemoryService, accountId: string, spec: MemorySpec, maxMemories: number, now: number): Promise<MemoryContext> {
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
