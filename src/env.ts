// Options from environment variables, for the standalone server (documented in the README).
import type { AipaygentOptions } from './config.js';

/** Reads AIPAYGENT_* variables; unset variables leave the option at its default. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): AipaygentOptions {
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new TypeError(`${name} must be an integer (got "${raw}")`);
    return n;
  };
  const store = env.AIPAYGENT_STORE;
  return {
    store: store === undefined || store === '' ? undefined : store,
    multiProcess: env.AIPAYGENT_MULTI_PROCESS === '1' || env.AIPAYGENT_MULTI_PROCESS === 'true',
    adminToken: env.AIPAYGENT_ADMIN_TOKEN || undefined,
    storeTimeoutMs: int('AIPAYGENT_STORE_TIMEOUT_MS'),
    storePrefix: env.AIPAYGENT_STORE_PREFIX || undefined,
    // The Claude proxy is served only with an Anthropic key; its other options keep their defaults.
    claude: env.ANTHROPIC_API_KEY ? { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL || undefined } : undefined,
    limits: {
      maxBodyBytes: int('AIPAYGENT_MAX_BODY_BYTES'),
      maxValueBytes: int('AIPAYGENT_MAX_VALUE_BYTES'),
    },
  };
}
