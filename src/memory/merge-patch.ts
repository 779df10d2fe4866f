// JSON Merge Patch (RFC 7396 §2): results are built from own properties only, so "__proto__" stays data.
import { cloneJson, isObject, setOwn, type JsonObject } from './json-value.js';

/**
 * Applies `patch` to `target` without changing either: returns a new value that may share
 * untouched members of `target` (never of `patch`, whose values are copied). Iterative, so a
 * patch of any depth cannot overflow the stack; each member of either is visited once.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const root: JsonObject = {};
  // Each task merges one object of the patch into the object built for it from its target.
  const tasks: Array<[out: JsonObject, target: unknown, patch: JsonObject]> = [[root, target, patch]];
  while (tasks.length) {
    const [out, t, p] = tasks.pop()!;
    if (isObject(t)) for (const [k, v] of Object.entries(t)) setOwn(out, k, v);
    for (const [k, v] of Object.entries(p)) {
      if (v === null) delete out[k];
      else if (isObject(v)) {
        const child: JsonObject = {};
        tasks.push([child, Object.hasOwn(out, k) ? out[k] : undefined, v]);
        setOwn(out, k, child);
      } else setOwn(out, k, cloneJson(v));
    }
  }
  return root;
}
