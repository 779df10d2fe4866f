// A real Store with faults injected on demand: memory reads/writes that throw or wait, a charge or void that fails.
import { Keyv } from 'keyv';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';

export interface Faults {
  /** The next N reads of a memory record throw (a bug on our side: answered 500). */
  failMemoryGets: number;
  /** The next N writes of a memory record throw. */
  failMemoryPuts: number;
  /** While set, writes of a memory record wait for it (to hold a call in flight). */
  putGate: Promise<void> | undefined;
  /** Memory writes that reached `putGate` so far (a call held at its write, whatever other writes it made before). */
  gated: number;
  /** The next N charges fail as if the backend were down. */
  failCharges: number;
  /** The next N voids (a refund is a void of the charge's id) fail as if the backend were down. */
  failVoids: number;
  /** The next N voids run, then fail as if their answer were lost. */
  loseVoids: number;
  /** Counts of calls per method, to assert how many round trips a request made. */
  calls: Record<string, number>;
}

export const newFaults = (): Faults => ({ failMemoryGets: 0, failMemoryPuts: 0, putGate: undefined, gated: 0, failCharges: 0, failVoids: 0, loseVoids: 0, calls: {} });

/** An in-memory KeyvStore (or `inner`) whose memory collections and charge misbehave as `faults` says. */
export function faultyStore(faults: Faults, inner: Store = new KeyvStore(new Keyv({ throwOnErrors: true }))): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const name = String(prop);
      return async (...args: unknown[]) => {
        faults.calls[name] = (faults.calls[name] ?? 0) + 1;
        const memory = typeof args[1] === 'string' && args[1].startsWith('m:');
        if (name === 'get' && memory && faults.failMemoryGets > 0) {
          faults.failMemoryGets--;
          throw new Error('injected fault: memory read');
        }
        if (name === 'put' && memory) {
          if (faults.putGate) {
            faults.gated++;
            await faults.putGate;
          }
          if (faults.failMemoryPuts > 0) {
            faults.failMemoryPuts--;
            throw new Error('injected fault: memory write');
          }
        }
        if (name === 'charge' && faults.failCharges > 0) {
          faults.failCharges--;
          throw new StoreUnavailableError(new Error('injected fault: backend down'));
        }
        if (name === 'void' && faults.failVoids > 0) {
          faults.failVoids--;
          throw new StoreUnavailableError(new Error('injected fault: backend down'));
        }
        const out = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name === 'void' && faults.loseVoids > 0) {
          faults.loseVoids--;
          throw new StoreUnavailableError(new Error('injected fault: the answer was lost'));
        }
        return out;
      };
    },
  });
}
