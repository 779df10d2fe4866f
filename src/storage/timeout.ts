// Bounds every store call in time and turns backend faults into StoreUnavailableError (fail closed).
import { StoreRefusedValueError, StoreUnavailableError } from '../errors.js';

/**
 * Rejects with StoreUnavailableError when `promise` fails or takes longer than `ms`. A
 * StoreRefusedValueError (the data is at fault, not the backend: a 400) passes through unchanged.
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  // One promise and one timer per call (not a timeout promise raced with the call: three more promises,
  // on every store operation of every request). The first to settle wins; the other is ignored.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreUnavailableError(new Error(`store call exceeded ${ms} ms`))), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof StoreUnavailableError || error instanceof StoreRefusedValueError ? error : new StoreUnavailableError(error));
      },
    );
  });
}
