// What a memory-aware Claude request asks for: `memory` in the body, or `x-aipaygent-memory-*` headers (SDK users).
import { z } from 'zod';
import { invalid } from '../errors.js';
import { identifier } from '../http/fields.js';
import { textProblem } from '../text.js';
import type { Scope } from '../keys/scopes.js';
import type { ClaudeMemoryConfig } from './memory-options.js';

/** The memory part of a request, validated. */
export interface MemorySpec {
  userId: string;
  /** Keys to inject (may be empty). */
  keys: string[];
  /** Inject every memory whose key starts with this ('' for all); undefined: none by prefix. */
  prefix: string | undefined;
  /** Token budget of the injected context. */
  maxTokens: number;
  /** Inject the memories that best match this search query; 'auto': the text of the last user message. */
  query: string | undefined;
}

/** Claude's memory tool as the request declares it (its `name` is what tool_use blocks carry). */
export interface DeclaredMemoryTool {
  name: string;
}

/** The request headers SDK users send instead of a `memory` body field. Values are percent-decoded. */
export const MEMORY_HEADERS = {
  user: 'x-aipaygent-memory-user',
  keys: 'x-aipaygent-memory-keys',
  prefix: 'x-aipaygent-memory-prefix',
  maxTokens: 'x-aipaygent-memory-max-tokens',
  query: 'x-aipaygent-memory-query',
} as const;

/** Longest `memory.query`, in characters (as the search route's `q`). */
const MAX_QUERY_CHARS = 4096;

type Headers = Record<string, string | string[] | undefined>;

function schemaOf(config: ClaudeMemoryConfig, maxKeyBytes: number) {
  return z.object({
    memory: z.strictObject(
      {
        user_id: identifier('memory.user_id', maxKeyBytes),
        keys: z
          .array(identifier('memory.keys[]', maxKeyBytes), { error: 'memory.keys must be an array of keys' })
          .max(config.maxInjectedMemories, { error: `memory.keys must list at most ${config.maxInjectedMemories} keys on this server` })
          .optional(),
        prefix: z
          .string({ error: 'memory.prefix must be a string' })
          .refine((s) => Buffer.byteLength(s, 'utf8') <= maxKeyBytes, { error: `memory.prefix must be at most ${maxKeyBytes} bytes (UTF-8)` })
          .refine((s) => textProblem(s) === null, { error: (i) => `memory.prefix ${textProblem(i.input as string)}` })
          .optional(),
        query: z
          .string({ error: 'memory.query must be a string (a search query, or "auto" for the last user message)' })
          .min(1, { error: 'memory.query must not be empty' })
          .max(MAX_QUERY_CHARS, { error: `memory.query must be at most ${MAX_QUERY_CHARS} characters` })
          .refine((s) => textProblem(s) === null, { error: (i) => `memory.query ${textProblem(i.input as string)}` })
          .optional(),
        max_tokens: z
          .number({ error: 'memory.max_tokens must be an integer' })
          .int({ error: 'memory.max_tokens must be an integer' })
          .min(1, { error: 'memory.max_tokens must be at least 1' })
          .max(config.maxInjectTokens, { error: `memory.max_tokens must be at most ${config.maxInjectTokens} on this server` })
          .optional(),
      },
      { error: (i) => (i.code === 'unrecognized_keys' ? `memory: unknown field(s) ${i.keys.join(', ')} (known: user_id, keys, prefix, query, max_tokens)` : 'memory must be an object') },
    ),
  });
}

function one(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) throw invalid(`${name} is given more than once`);
  return v;
}

function decode(name: string, value: string): string {
  try {
    return decodeURIComponent(value.trim());
  } catch {
    throw invalid(`${name} must be percent-encoded UTF-8`);
  }
}

/** The `memory` object the headers describe, or undefined when none of them is present. */
function fromHeaders(headers: Headers): Record<string, unknown> | undefined {
  const user = one(headers, MEMORY_HEADERS.user);
  const keys = one(headers, MEMORY_HEADERS.keys);
  const prefix = one(headers, MEMORY_HEADERS.prefix);
  const max = one(headers, MEMORY_HEADERS.maxTokens);
  const query = one(headers, MEMORY_HEADERS.query);
  if (user === undefined && keys === undefined && prefix === undefined && max === undefined && query === undefined) return undefined;
  if (user === undefined) throw invalid(`${MEMORY_HEADERS.user} is required with the other x-aipaygent-memory-* headers`);
  const out: Record<string, unknown> = { user_id: decode(MEMORY_HEADERS.user, user) };
  if (keys !== undefined) out.keys = keys.trim() === '' ? [] : keys.split(',').map((k) => decode(MEMORY_HEADERS.keys, k));
  if (prefix !== undefined) out.prefix = decode(MEMORY_HEADERS.prefix, prefix);
  if (query !== undefined) out.query = decode(MEMORY_HEADERS.query, query);
  if (max !== undefined) {
    if (!/^\s*\d{1,9}\s*$/.test(max)) throw invalid(`${MEMORY_HEADERS.maxTokens} must be an integer`);
    out.max_tokens = Number(max);
  }
  return out;
}

/**
 * The memory spec of a request (null when it asks for none) and the body to send upstream, without
 * the `memory` field. Body and headers together are ambiguous: a 400.
 */
export function readMemorySpec(
  body: Record<string, unknown>,
  headers: Headers,
  config: ClaudeMemoryConfig,
  maxKeyBytes: number,
): { spec: MemorySpec | null; body: Record<string, unknown> } {
  const byHeaders = fromHeaders(headers);
  if (!('memory' in body) && byHeaders === undefined) return { spec: null, body };
  if ('memory' in body && byHeaders !== undefined) throw invalid('Give memory either in the body or in x-aipaygent-memory-* headers, not both');
  const { memory: raw, ...rest } = body;
  const parsed = schemaOf(config, maxKeyBytes).safeParse({ memory: byHeaders ?? raw });
  if (!parsed.success) {
    const message = parsed.error.issues[0]!.message;
    throw invalid(byHeaders ? `${message} (from the x-aipaygent-memory-* headers)` : message);
  }
  const m = parsed.data.memory;
  return {
    spec: { userId: m.user_id, keys: m.keys ?? [], prefix: m.prefix, maxTokens: m.max_tokens ?? config.injectTokens, query: m.query },
    body: rest,
  };
}

/**
 * The memory scopes a Claude call needs besides 'claude': 'memory:read' to have memories injected, and
 * 'memory:write' too when it also declares the memory tool (which reads and writes the user's memories).
 * Only whether memory is asked for is looked at here: the request is validated later, as any other.
 */
export function memoryScopes(body: unknown, headers: Headers): Scope[] {
  const asked = (typeof body === 'object' && body !== null && 'memory' in body) || Object.values(MEMORY_HEADERS).some((h) => headers[h] !== undefined);
  if (!asked) return [];
  return declaredMemoryTool(body as Record<string, unknown>) ? ['memory:read', 'memory:write'] : ['memory:read'];
}

/** Claude's memory tool (`type: "memory_…"`) when the request declares it. */
export function declaredMemoryTool(body: Record<string, unknown>): DeclaredMemoryTool | null {
  if (!Array.isArray(body.tools)) return null;
  for (const t of body.tools as unknown[]) {
    const tool = t as { type?: unknown; name?: unknown } | null;
    if (tool && typeof tool.type === 'string' && tool.type.startsWith('memory_')) {
      return { name: typeof tool.name === 'string' ? tool.name : 'memory' };
    }
  }
  return null;
}

/** How memory-aware calls work, for the Claude routes' documentation (OpenAPI, /docs). */
export function memoryRouteDoc(config: ClaudeMemoryConfig): string {
  return (
    '**Memory-aware calls.** Add `memory: {user_id, keys?, prefix?, query?, max_tokens?}` to the body (SDK users: the headers ' +
    '`x-aipaygent-memory-user`, `x-aipaygent-memory-keys` (comma-separated), `x-aipaygent-memory-prefix`, `x-aipaygent-memory-query`, ' +
    '`x-aipaygent-memory-max-tokens`, percent-encoded) to add that user\'s memories to the system prompt, after your own system blocks: one ' +
    '`<memory key="…">json</memory>` per key: those of `keys` and `prefix` sorted by key, then those that best match the search ' +
    '`query` (`"auto"`: the last user message), best first, within `max_tokens` ' +
    `(default ${config.injectTokens}); \`X-Memory-Keys\` lists the keys injected, \`X-Memory-Truncated\` says what the budget cut. ` +
    'Declare Claude\'s memory tool (`{"type": "memory_20250818", "name": "memory"}`) with `memory.user_id` and the server runs the ' +
    'model\'s memory calls on that user\'s memories (`/memories/notes.md` is the key `notes.md`) until it answers, ' +
    `at most ${config.maxSteps} upstream calls, each billed as a Claude call. The answer is one Message without the memory tool calls; ` +
    '`X-Memory-Tool-Steps` and `X-Memory-Tool-Stopped` (`step_limit`, `payment_required`, `client_tool`) tell how it went ' +
    '(streams: `: aipaygent-memory-tool-steps=<n>` and `: aipaygent-memory-tool-stopped=<why>` comments at the end).'
  );
}
