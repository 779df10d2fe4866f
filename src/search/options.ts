// Options of memory search, validated once at startup (problems are collected like every option's).

/** Turns texts into vectors: a call to an embeddings API, or a local model the host runs. */
export type EmbedFn = (texts: string[]) => Promise<number[][]>;

export interface SearchOptions {
  /** Largest `limit` a search may ask for. @default 100 */
  maxLimit?: number;
  /**
   * Turns on semantic and hybrid search (`mode=semantic|hybrid`; hybrid becomes the default). Called
   * in the background after writes, never on a write's path, and once per semantic search for the query.
   * @example embed: (texts) => fetch('https://api.voyageai.com/v1/embeddings', …).then(…)
   */
  embed?: EmbedFn;
  /** Length of the vectors `embed` returns (checked on every answer). Required with `embed`. */
  dimensions?: number;
  /** Name of the model behind `embed`, stored with each vector: when it changes, memories are re-embedded lazily. Required with `embed`. */
  model?: string;
  /** Most texts per `embed` call. @default 32 */
  batchSize?: number;
  /** An `embed` call taking longer than this is abandoned and retried. @default 10000 */
  timeoutMs?: number;
  /** Attempts per text before the background embedding gives up (it is tried again when a search meets it). @default 3 */
  attempts?: number;
}

export interface EmbedderConfig {
  embed: EmbedFn;
  dimensions: number;
  model: string;
  batchSize: number;
  timeoutMs: number;
  attempts: number;
}

export interface SearchConfig {
  maxLimit: number;
  embedder: EmbedderConfig | undefined;
}

const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** `search: false` turns search off (no index is kept); undefined: lexical search on. */
export function parseSearchOptions(options: SearchOptions | false | undefined, problems: string[]): SearchConfig | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) {
    problems.push('search must be an object or false');
    return undefined;
  }
  const int = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (!isInt(value, min, max)) problems.push(`search.${name} must be an integer between ${min} and ${max} (got ${String(value)})`);
    return value;
  };
  const config: SearchConfig = { maxLimit: int('maxLimit', o.maxLimit, 100, 1, 1000), embedder: undefined };
  if (o.embed === undefined) {
    if (o.dimensions !== undefined || o.model !== undefined) problems.push('search.dimensions and search.model go with search.embed, which is not set');
    return config;
  }
  if (typeof o.embed !== 'function') problems.push('search.embed must be a function (texts: string[]) => Promise<number[][]>');
  if (!isInt(o.dimensions, 1, 16_384)) problems.push('search.dimensions is required with search.embed: an integer between 1 and 16384');
  if (typeof o.model !== 'string' || !/^[\x21-\x7e]{1,100}$/.test(o.model)) problems.push('search.model is required with search.embed: the model name, 1 to 100 visible ASCII characters');
  config.embedder = {
    embed: o.embed,
    dimensions: o.dimensions as number,
    model: o.model as string,
    batchSize: int('batchSize', o.batchSize, 32, 1, 2048),
    timeoutMs: int('timeoutMs', o.timeoutMs, 10_000, 10, 600_000),
    attempts: int('attempts', o.attempts, 3, 1, 20),
  };
  return config;
}
