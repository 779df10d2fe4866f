// Wraps a Store so every call is bounded in time and every backend fault becomes a 503 (fail closed).
import type { Store } from './contract.js';
import { bounded } from './timeout.js';

const UNGUARDED = new Set(['info', 'close', 'init']);

/** Returns a Store whose methods reject with StoreUnavailableError on fault or after `timeoutMs`. */
export function guardStore(store: Store, timeoutMs: number): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || UNGUARDED.has(String(prop))) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => bounded((value as (...a: unknown[]) => Promise<unknown>).apply(target, args), timeoutMs);
    },
  });
}
