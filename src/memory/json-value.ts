// Plain-JSON helpers that never read or write through prototypes: own properties only, `__proto__` is data.

export type JsonObject = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The own member `key` of `obj`, or undefined: inherited names such as `toString` or `__proto__` are not members. */
export const getOwn = (obj: JsonObject, key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

/**
 * Sets an own data property. Plain assignment of "__proto__" would replace the object's prototype
 * instead of storing a member, so every write goes through defineProperty.
 */
export function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Deep copy of a JSON value, own enumerable members only (iterative: hostile depth cannot overflow the stack). */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const root: unknown = Array.isArray(value) ? new Array(value.length) : {};
  const stack: Array<[unknown, unknown]> = [[value, root]];
  while (stack.length) {
    const [src, dst] = stack.pop()!;
    const entries = Array.isArray(src) ? src.map((v, i) => [String(i), v] as const) : Object.entries(src as JsonObject);
    for (const [k, v] of entries) {
      let copy = v;
      if (typeof v === 'object' && v !== null) {
        copy = Array.isArray(v) ? new Array(v.length) : {};
        stack.push([v, copy]);
      }
      if (Array.isArray(dst)) dst[Number(k)] = copy;
      else setOwn(dst as JsonObject, k, copy);
    }
  }
  return root as T;
}

/** JSON equality (RFC 6902 §4.6): same type; numbers by value; arrays in order; objects by member set. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x)) {
      const ys = y as unknown[];
      if (x.length !== ys.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], ys[i]]);
      continue;
    }
    const xk = Object.keys(x);
    if (xk.length !== Object.keys(y).length) return false;
    for (const k of xk) {
      if (!Object.hasOwn(y, k)) return false;
      stack.push([(x as JsonObject)[k], (y as JsonObject)[k]]);
    }
  }
  return true;
}

/**
 * A lower bound of the UTF-8 bytes of `value`'s JSON text (strings counted by UTF-16 units, without
 * escapes), counted until it passes `stopAt`: then some number above `stopAt`. Iterative.
 */
export function jsonSizeWithin(value: unknown, stopAt: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length && size <= stopAt) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (typeof v === 'number') size += String(v).length;
    else if (typeof v === 'boolean') size += v ? 4 : 5;
    else if (v === null) size += 4;
    else if (Array.isArray(v)) {
      size += 1 + Math.max(1, v.length);
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v);
      size += 1 + Math.max(1, entries.length);
      for (const [k, item] of entries) {
        size += k.length + 3;
        stack.push(item);
      }
    }
  }
  return size;
}
