// A service made once `ready` resolves (its optional package is loaded then): routes are built before, and run only after.

export interface Late<T extends object> {
  /** Stands for the service: every property read goes to it once bound. */
  readonly target: T;
  bind(value: T): void;
}

/**
 * A stand-in for a service that does not exist yet. The core runs no route before `ready` resolved, so a
 * read before `bind` is a bug of ours and says so. Not for hot paths: each read goes through a Proxy trap.
 */
export function late<T extends object>(what: string): Late<T> {
  let value: T | undefined;
  const target = new Proxy({} as T, {
    get(_stand, prop) {
      if (value === undefined) throw new Error(`aipaygent: ${what} was used before ai.ready resolved`);
      const v = Reflect.get(value, prop, value) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(value) : v;
    },
  });
  return { target, bind: (v) => void (value = v) };
}
