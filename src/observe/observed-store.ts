// A Store that reports each operation's time and outcome, and the money it moved, to the event port (only when someone listens).
import type { ChargeResult, PostInput, PostResult, Store, VoidResult } from '../storage/contract.js';
import { OPTIONAL_METHODS, STORE_METHODS, type StoreMethod } from '../storage/deferred.js';
import type { Events } from './events.js';

/** Not timed: they run once, at start and at close. */
const UNTIMED = new Set<StoreMethod>(['init', 'close']);

/** Money events from what the store answered (so every door's money is seen, and only what committed). */
function moneyOf(events: Events, op: StoreMethod, args: unknown[], result: unknown): void {
  if (op === 'charge') {
    const r = result as ChargeResult;
    if (!r.ok) return;
    if (r.free) events.emit({ type: 'money', kind: 'free_call' });
    else events.emit({ type: 'money', kind: 'debit', amount: r.entry.amount });
  } else if (op === 'incr') {
    // The meter gives a free call back on a store whose answers cannot be lost by decrementing its counter.
    if ((args[2] as number) < 0 && (args[1] as string).startsWith('free:')) events.emit({ type: 'money', kind: 'free_call_refund' });
  } else if (op === 'void') {
    // A refund is a void of the charge's id now: what it gave back is a free call, or a 'refund' entry (a hold's 'release' is not money spent).
    const r = result as VoidResult;
    if (r.outcome !== 'given_back') return;
    if (r.free) events.emit({ type: 'money', kind: 'free_call_refund' });
    else if (r.entry?.kind === 'refund') events.emit({ type: 'money', kind: 'refund', amount: r.entry.amount });
  } else if (op === 'post') {
    const r = result as PostResult;
    if (r.ok) events.emit({ type: 'money', kind: (args[1] as PostInput).kind, amount: r.entry.amount });
  }
}

/** Wraps `store`: same contract, each call timed (`performance.now`) and reported. */
export function observedStore(store: Store, events: Events): Store {
  const observed = { info: store.info } as { -readonly [K in keyof Store]: Store[K] };
  // Read through: a deferred store gets its outbox when it opens. The worker's calls are its own, not timed here.
  Object.defineProperty(observed, 'outbox', { get: () => store.outbox, enumerable: true });
  for (const op of Object.keys(STORE_METHODS) as StoreMethod[]) {
    if (OPTIONAL_METHODS.has(op) && typeof store[op] !== 'function') continue;
    const fn = (store[op] as (...a: unknown[]) => Promise<unknown>).bind(store);
    (observed as Record<StoreMethod, unknown>)[op] = UNTIMED.has(op)
      ? fn
      : async (...args: unknown[]) => {
          const start = performance.now();
          try {
            const result = await fn(...args);
            events.emit({ type: 'store', op, durationMs: performance.now() - start, ok: true });
            moneyOf(events, op, args, result);
            return result;
          } catch (error) {
            events.emit({ type: 'store', op, durationMs: performance.now() - start, ok: false });
            throw error;
          }
        };
  }
  return observed;
}
