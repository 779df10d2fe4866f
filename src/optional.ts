// Optional features load their packages on demand: a missing one is a startup error naming it and its install command.

/** A fault found while starting (configuration, a missing package, a store that does not answer): `ai.ready` rejects with it. */
export class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = 'AipaygentStartupError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
    // A startup error is read by a person at a terminal: the message says it all, a stack would only bury it.
    this.stack = `${this.name}: ${message}`;
  }
}

/** The optional peer packages, by the feature that needs them (the README's install table says the same). */
export const OPTIONAL_PACKAGES = {
  redis: { pkg: '@keyv/redis', feature: 'the Redis store (redis://)' },
  postgres: { pkg: 'pg', feature: 'the Postgres store (postgres://)' },
  sqlite: { pkg: 'better-sqlite3', feature: 'the SQLite store (sqlite://)' },
  claude: { pkg: '@anthropic-ai/sdk', feature: 'the Claude proxy (claude.apiKey)' },
  payments: { pkg: 'viem', feature: 'USDC payments (payments.receiver)' },
  openTelemetry: { pkg: '@opentelemetry/api', feature: 'OpenTelemetry spans (openTelemetry: true)' },
  mcp: { pkg: '@modelcontextprotocol/sdk', feature: 'the MCP endpoint (mcp option)' },
} as const;

export type OptionalFeature = keyof typeof OPTIONAL_PACKAGES;

/** The startup error of a feature whose package is not installed. */
export function missingPackage(feature: OptionalFeature): StartupError {
  const { pkg, feature: what } = OPTIONAL_PACKAGES[feature];
  return new StartupError(`aipaygent: ${what} needs the package "${pkg}", which is not installed: run npm install ${pkg}`);
}

/** True when `error` is a module resolution failure for `pkg` (Node ESM and CJS, and vite's loader in tests). */
export function isMissingPackage(error: unknown, pkg: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND' && !/^(Cannot find|Failed to load)/.test(error.message)) return false;
  // "Cannot find package 'pg' imported from …", "Cannot find module 'pg'", "Failed to load url pg": the name, not a prefix of another.
  return new RegExp(`['"\\s/]${pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(['"/\\s]|$)`).test(` ${error.message}`);
}

/**
 * Imports what a feature needs (`load` is a literal `import()` of the package, or of our module that
 * imports it). A missing package becomes the StartupError naming it; other failures pass unchanged.
 */
export async function loadFeature<T>(feature: OptionalFeature, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw isMissingPackage(error, OPTIONAL_PACKAGES[feature].pkg) ? missingPackage(feature) : error;
  }
}

/**
 * Runs what first touches a native package (better-sqlite3 loads its compiled module when a database
 * opens): a missing or mismatched build becomes a StartupError saying how to build it (an install with
 * --ignore-scripts, or an npm that blocks install scripts, leaves exactly this state behind).
 */
export async function withNativeModule<T>(feature: OptionalFeature, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!/bindings file|NODE_MODULE_VERSION|ERR_DLOPEN_FAILED|invalid ELF header|\.node\b.*(cannot open|not found)/i.test(message)) throw error;
    const { pkg, feature: what } = OPTIONAL_PACKAGES[feature];
    throw new StartupError(
      `aipaygent: ${what} could not load the native module of "${pkg}" (${message.split('\n')[0]}); ` +
        `its install script did not run or built it for another Node: npm rebuild ${pkg} (allow its install script if your npm blocks them)`,
      error,
    );
  }
}
