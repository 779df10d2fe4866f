// Bounds every store call in time and turns backend faults into StoreUnavailableError (fail closed).
import { StoreRefusedValueError, StoreUnavailableError } from '../errors.js';

/**
 * Rejects with StoreUnavailableError when `promise` fails or takes longer than `ms`. A
 * StoreRefusedValueError (the data is at fault, not the backend: a 400) passes through unchanged.
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(new Error(`store call exceeded ${ms} ms`))), ms);
  });
  return Promise.race([promise, timeout]).then(
    (value) => {
      clearTimeout(timer);
      return value;
    },
    (error: unknown) => {
      clearTimeout(timer);
      throw error instanceof StoreUnavailableError || error instanceof StoreRefusedValueError ? error : new StoreUnavailableError(error);
    },
  );
}
