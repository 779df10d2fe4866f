// Turns the `store` option (nothing, a URL, a Keyv instance or a Store) into a Store, picking the native path.
import type { Keyv } from 'keyv';
import type { Store } from './contract.js';
import { KeyvStore } from './keyv-store.js';
import { guardStore } from './guard.js';
import { MemoryStore } from './memory-store.js';
import type { ReplicaAck } from './replica-ack.js';
import { loadFeature, StartupError, withNativeModule } from '../optional.js';

/** What the `store` option accepts. */
export type StoreOption = undefined | string | Keyv | Store;

export interface OpenOptions {
  /** Every store call fails with 503 after this long. */
  timeoutMs: number;
  /** Key prefix / schema / table prefix for native backends. */
  prefix: string;
  /** When a replicated Redis write is acknowledged (undefined: never waits for replicas). */
  replicaAck?: ReplicaAck | undefined;
}

/** A store URL fit for a log line or a message: credentials replaced. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/** How the `store` option reads in a message: its redacted URL, or what kind of object it is. */
export function describeStore(option: StoreOption): string {
  if (option === undefined || option === 'memory') return 'memory';
  if (typeof option === 'string') return redactUrl(option);
  return isStore(option) ? `a Store (${option.info.backend})` : `a Keyv instance (${adapterName(option) || 'generic'})`;
}

function isStore(value: unknown): value is Store {
  return typeof value === 'object' && value !== null && 'info' in value && typeof (value as Store).charge === 'function';
}

/** The Keyv adapter's class name tells which native implementation applies (no import of the adapters). */
function adapterName(keyv: Keyv): string {
  const adapter = keyv.store as { constructor?: { name?: string } } | undefined;
  return adapter?.constructor?.name ?? '';
}

/**
 * Opens the store without talking to it (`init()` connects and migrates). Native implementations are
 * loaded lazily so that their client packages (`@keyv/redis`, `pg`, `better-sqlite3`) stay optional:
 * a missing one is a StartupError naming it. A store's `close()` closes only the connections it
 * opened itself, never the host's Keyv client.
 */
export async function openStore(option: StoreOption, opts: OpenOptions): Promise<Store> {
  if (isStore(option)) return option;
  if (option === undefined || option === 'memory') {
    // The embedded default: plain Maps that cannot hang or fail, so no time bound on the hot path; each
    // operation is synchronous inside, so atomic without locks (see memory-store.ts).
    return new MemoryStore();
  }
  if (typeof option === 'string') {
    const url = option;
    if (url.startsWith('redis://') || url.startsWith('rediss://')) {
      await loadFeature('redis', () => import('@keyv/redis'));
      const { redisStoreFromUrl } = await import('./redis-store.js');
      return guardStore(await redisStoreFromUrl(url, opts), opts.timeoutMs);
    }
    if (url.startsWith('redis-cluster://') || url.startsWith('rediss-cluster://')) {
      await loadFeature('redis', () => import('@keyv/redis'));
      const { redisClusterStoreFromUrl } = await import('./redis-store.js');
      return guardStore(await redisClusterStoreFromUrl(url, opts), opts.timeoutMs);
    }
    if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
      const { postgresStoreFromUrl } = await loadFeature('postgres', () => import('./postgres-store.js'));
      return guardStore(await postgresStoreFromUrl(url, opts), opts.timeoutMs);
    }
    if (url.startsWith('sqlite://')) {
      const { sqliteStoreFromUrl } = await loadFeature('sqlite', () => import('./sqlite-store.js'));
      return guardStore(await withNativeModule('sqlite', () => sqliteStoreFromUrl(url, opts)), opts.timeoutMs);
    }
    throw new StartupError(`aipaygent: store: unsupported URL "${redactUrl(url)}" (use memory, redis://, redis-cluster://, postgres:// or sqlite://)`);
  }
  // A Keyv instance: errors must surface (fail closed), never be swallowed as "absent".
  option.throwOnErrors = true;
  switch (adapterName(option)) {
    case 'KeyvRedis': {
      const { redisStoreFromKeyv } = await import('./redis-store.js');
      return guardStore(await redisStoreFromKeyv(option, opts), opts.timeoutMs);
    }
    case 'KeyvPostgres': {
      const { postgresStoreFromKeyv } = await loadFeature('postgres', () => import('./postgres-store.js'));
      return guardStore(await postgresStoreFromKeyv(option, opts), opts.timeoutMs);
    }
    case 'KeyvSqlite': {
      const { sqliteStoreFromKeyv } = await loadFeature('sqlite', () => import('./sqlite-store.js'));
      return guardStore(await sqliteStoreFromKeyv(option, opts), opts.timeoutMs);
    }
    default:
      return guardStore(new KeyvStore(option), opts.timeoutMs);
  }
}
