// A Store stand-in usable before the real one has opened: calls wait for it, then go straight through.
import { StoreUnavailableError } from '../errors.js';
import type { Store } from './contract.js';

/** The contract's methods (`info` and `outbox` are properties). */
export type StoreMethod = Exclude<keyof Store, 'info' | 'outbox'>;
type Method = StoreMethod;

/** Every method of the contract (a missing or extra name is a type error here). */
export const STORE_METHODS: Record<Method, true> = {
  init: true, get: true, put: true, delete: true, list: true, entries: true, search: true, purge: true, incr: true, counter: true, balance: true, post: true,
  charge: true, void: true, hold: true, settle: true, ledger: true, claim: true, updateClaim: true, releaseClaim: true, sweep: true, close: true,
  usage: true, lastUsed: true,
};

/** The methods a Store may lack (UsageReads): a wrapper offers them only when the store it wraps has them. */
export const OPTIONAL_METHODS: ReadonlySet<StoreMethod> = new Set(['usage', 'lastUsed']);

/**
 * Returns a Store that forwards to `current()` once `ready` has resolved. It is a plain object whose
 * methods are replaced by the real store's own (bound) methods when it opens: after that a call costs
 * one property read, no Proxy trap and no extra promise on the hot path.
 */
export function deferredStore(ready: Promise<unknown>, current: () => Store | undefined): Store {
  const stand = { info: undefined } as unknown as { -readonly [K in keyof Store]: Store[K] };
  const methods = Object.keys(STORE_METHODS) as Method[];
  for (const name of methods) {
    (stand as Record<Method, unknown>)[name] = async (...args: unknown[]) => {
      await ready.catch((cause: unknown) => {
        throw new StoreUnavailableError(cause, false); // never sent: the store is not open
      });
      const s = current()!;
      return (s[name] as (...a: unknown[]) => unknown).apply(s, args);
    };
  }
  ready.then(
    () => {
      const s = current()!;
      stand.info = s.info;
      if (s.outbox) stand.outbox = s.outbox;
      for (const name of methods) {
        const fn = s[name] as ((...a: unknown[]) => unknown) | undefined;
        (stand as Record<Method, unknown>)[name] = fn?.bind(s);
      }
    },
    () => {},
  );
  return stand;
}
