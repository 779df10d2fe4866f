// The store at startup: opened and initialised before the service says it is ready, or (startWhenStoreDown) retried until it answers.
import { reasonOf, StoreUnavailableError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { StartupError } from '../optional.js';
import type { Store } from './contract.js';
import { OPTIONAL_METHODS, STORE_METHODS, type StoreMethod } from './deferred.js';
import { bounded } from './timeout.js';

export interface StartOptions {
  /** Time allowed to connect and migrate at startup (longer than one call's timeout: a migration may wait on a lock). */
  initTimeoutMs: number;
  startWhenStoreDown: boolean;
  /** What the store is, for messages (a redacted URL). */
  describe: string;
  logger: Logger;
}

/**
 * Initialises `store` (connect, migrate). When that fails: a StartupError naming the store and the
 * cause, or with `startWhenStoreDown` a Store that answers 503 and tries init again (at most once a
 * second, one attempt at a time) until it succeeds.
 */
export async function initAtStart(store: Store, opts: StartOptions): Promise<Store> {
  try {
    await bounded(store.init(), opts.initTimeoutMs);
    return store;
  } catch (error) {
    if (!opts.startWhenStoreDown) {
      await store.close().catch(() => {});
      throw new StartupError(
        `aipaygent: the store ${opts.describe} did not answer at startup (${reasonOf(error)}); start it, or set startWhenStoreDown ` +
          '(AIPAYGENT_START_WHEN_STORE_DOWN=1) to start anyway and answer 503 until it is back',
        error,
      );
    }
    opts.logger.warn(`aipaygent: the store ${opts.describe} did not answer at startup (${reasonOf(error)}); calls answer 503 until it does`);
    return initLater(store, opts);
  }
}

/** A Store whose calls first finish its initialisation; until then each fails with 503 (fail closed). */
function initLater(store: Store, opts: StartOptions): Store {
  let done = false;
  let attempt: Promise<void> | undefined;
  let lastTry = Date.now();
  const ensure = (): Promise<void> => {
    if (done) return Promise.resolve();
    if (!attempt) {
      if (Date.now() - lastTry < 1000) return Promise.reject(new StoreUnavailableError(undefined, false));
      lastTry = Date.now();
      attempt = bounded(store.init(), opts.initTimeoutMs).then(
        () => {
          done = true;
          opts.logger.warn(`aipaygent: the store ${opts.describe} answers again; serving`);
        },
        (error: unknown) => {
          attempt = undefined;
          throw new StoreUnavailableError(error, false); // the call itself was never sent
        },
      );
    }
    return attempt;
  };
  const wrapped = { info: store.info } as { -readonly [K in keyof Store]: Store[K] };
  for (const op of Object.keys(STORE_METHODS) as StoreMethod[]) {
    if (OPTIONAL_METHODS.has(op) && typeof store[op] !== 'function') continue;
    const fn = (store[op] as (...a: unknown[]) => Promise<unknown>).bind(store);
    (wrapped as Record<StoreMethod, unknown>)[op] =
      op === 'close' ? fn : op === 'init' ? ensure : async (...args: unknown[]) => (done ? fn(...args) : ensure().then(() => fn(...args)));
  }
  return wrapped;
}
