// JSON Pointer (RFC 6901): parsing, and resolving against a JSON value through own members only.
import { getOwn, isObject } from './json-value.js';

/** The reference tokens of a pointer, or null when it is not a valid pointer ("" is the whole document). */
export function parsePointer(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (pointer[0] !== '/') return null;
  // "~" must be followed by 0 or 1 (RFC 6901 §3).
  if (/~(?![01])/.test(pointer)) return null;
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export const formatPointer = (tokens: readonly string[]): string => tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/** An array index token: "0" or digits without a leading zero (RFC 6901 §4). */
export const isIndex = (token: string): boolean => /^(0|[1-9][0-9]*)$/.test(token);

/** The value at `tokens`, or undefined when a member or index along the way does not exist. */
export function resolve(doc: unknown, tokens: readonly string[]): unknown {
  let cur = doc;
  for (const token of tokens) {
    if (Array.isArray(cur)) {
      if (!isIndex(token) || Number(token) >= cur.length) return undefined;
      cur = cur[Number(token)];
    } else if (isObject(cur)) {
      cur = getOwn(cur, token);
      if (cur === undefined) return undefined;
    } else return undefined;
  }
  return cur;
}
