// JSON Merge Patch (RFC 7396 §2): results are built from own properties only, so "__proto__" stays data.
import { cloneJson, isObject, setOwn, type JsonObject } from './json-value.js';

/**
 * Applies `patch` to `target` without changing either: returns a new value that may share
 * untouched members of `target` (never of `patch`, whose values are copied).
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const out: JsonObject = {};
  if (isObject(target)) for (const [k, v] of Object.entries(target)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, applyMergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}
