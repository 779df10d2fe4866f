// The `claude.memory` options: memory context injection and the server-side memory tool loop.

/** Options of memory-aware Claude calls (`memory` in the request body or `x-aipaygent-memory-*` headers). */
export interface ClaudeMemoryOptions {
  /**
   * Upstream calls one request may make while the server runs Claude's memory tool for it; the
   * answer of the last one is returned, marked `step_limit`, when the model still wants more.
   * @default 8
   */
  maxSteps?: number;
  /** Token budget of the injected memory context when the request gives no `memory.max_tokens`. @default 2000 */
  injectTokens?: number;
  /** Largest `memory.max_tokens` a request may ask for (above: 400). @default 32000 */
  maxInjectTokens?: number;
  /** Most memories one request may select for injection (`keys` entries, or the first keys under `prefix`). @default 100 */
  maxInjectedMemories?: number;
  /** Most files one `view` of a memory directory lists (a note says when more exist). @default 500 */
  maxListedFiles?: number;
}

export interface ClaudeMemoryConfig {
  maxSteps: number;
  injectTokens: number;
  maxInjectTokens: number;
  maxInjectedMemories: number;
  maxListedFiles: number;
}

const RANGES: Record<keyof ClaudeMemoryConfig, [fallback: number, min: number, max: number]> = {
  maxSteps: [8, 1, 100],
  injectTokens: [2000, 1, 1_000_000],
  maxInjectTokens: [32_000, 1, 1_000_000],
  maxInjectedMemories: [100, 1, 999],
  maxListedFiles: [500, 1, 100_000],
};

/** Validates `claude.memory`, pushing every problem found into `problems`. */
export function parseClaudeMemoryOptions(options: ClaudeMemoryOptions | undefined, problems: string[]): ClaudeMemoryConfig {
  const given = (options ?? {}) as Record<string, unknown>;
  const out = {} as ClaudeMemoryConfig;
  for (const [name, [fallback, min, max]] of Object.entries(RANGES) as Array<[keyof ClaudeMemoryConfig, [number, number, number]]>) {
    const v = given[name];
    if (v === undefined) out[name] = fallback;
    else if (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max) out[name] = v as number;
    else {
      problems.push(`claude.memory.${name} must be an integer between ${min} and ${max} (got ${String(v)})`);
      out[name] = fallback;
    }
  }
  const unknown = Object.keys(given).filter((k) => !(k in RANGES));
  if (unknown.length) problems.push(`claude.memory: unknown option(s) ${unknown.join(', ')} (known: ${Object.keys(RANGES).join(', ')})`);
  if (out.injectTokens > out.maxInjectTokens) problems.push('claude.memory.injectTokens must not exceed claude.memory.maxInjectTokens');
  return out;
}
