// A Store stand-in usable before the real one has opened: calls wait for it, then go straight through.
import { StoreUnavailableError } from '../errors.js';
import type { Store } from './contract.js';

/** Returns a Store that forwards to `current()` once `ready` has resolved. */
export function deferredStore(ready: Promise<unknown>, current: () => Store | undefined): Store {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy({} as Store, {
    get(_target, prop) {
      const store = current();
      if (store) {
        let fn = bound.get(prop);
        if (fn === undefined) {
          const value = Reflect.get(store, prop) as unknown;
          if (typeof value !== 'function') return value;
          bound.set(prop, (fn = value.bind(store)));
        }
        return fn;
      }
      return async (...args: unknown[]) => {
        await ready.catch((cause: unknown) => {
          throw new StoreUnavailableError(cause);
        });
        const s = current()!;
        return (Reflect.get(s, prop) as (...a: unknown[]) => unknown).apply(s, args);
      };
    },
  });
}
