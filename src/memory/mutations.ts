// The mutations of the memory API, each a pure change of a Draft that either applies fully or is refused.
import { refuse, type Draft } from './draft.js';
import { applyJsonPatch, type PatchOperation } from './json-patch.js';
import { formatPointer, isIndex } from './json-pointer.js';
import { applyMergePatch } from './merge-patch.js';
import { cloneJson, getOwn, isObject, setOwn } from './json-value.js';
import type { Mutation } from './mutator.js';
import type { Precondition } from './preconditions.js';

/** Replaces the whole value (a conditional store). */
export function storeMutation(text: string, etag: string, ttlMs: number | null, precondition: Precondition | undefined): Mutation {
  return {
    op: 'store',
    precondition,
    apply(draft) {
      draft.setText(text, etag);
      draft.ttlMs = ttlMs;
      return null;
    },
  };
}

/** Removes the memory (a conditional delete). */
export function deleteMutation(precondition: Precondition | undefined): Mutation {
  return {
    op: 'delete',
    alone: true,
    precondition,
    apply(draft) {
      if (!draft.exists) return refuse('not_found', 'No such memory');
      draft.setValue(undefined);
      return null;
    },
  };
}

export interface AppendInput {
  /** Tokens of the JSON Pointer to the array ([] is the whole value). */
  path: string[];
  items: unknown[];
  /** Keep only the last `maxItems` elements. */
  maxItems?: number | undefined;
  /** New TTL; undefined keeps the memory's own (renewed from now). */
  ttlMs?: number | null | undefined;
  precondition?: Precondition | undefined;
}

/**
 * Appends to the array at `path`, creating the value, missing objects on the way and the array
 * itself. Checked in full before anything changes, so a refusal leaves the draft as it was.
 */
export function appendMutation(input: AppendInput): Mutation {
  const { path, items, maxItems } = input;
  return {
    op: 'append',
    precondition: input.precondition,
    apply(draft) {
      const root = draft.getValue();
      if (path.length === 0) {
        if (root !== undefined && !Array.isArray(root)) return refuse('conflict', `The memory is ${kindOf(root)}, not an array: append needs an array`);
      } else if (root !== undefined) {
        let cur: unknown = root;
        for (let i = 0; i < path.length; i++) {
          // Formatted only for a refusal: formatting every prefix would be quadratic in the path's length.
          const at = () => formatPointer(path.slice(0, i)) || 'the memory';
          if (Array.isArray(cur)) {
            const token = path[i]!;
            if (!isIndex(token) || Number(token) >= cur.length) return refuse('conflict', `${formatPointer(path.slice(0, i + 1))} does not exist (${at()} is an array)`);
            cur = cur[Number(token)];
          } else if (isObject(cur)) {
            cur = getOwn(cur, path[i]!);
            if (cur === undefined) break; // created below
          } else return refuse('conflict', `${at()} is ${kindOf(cur)}: cannot hold ${formatPointer(path)}`);
        }
        if (cur !== undefined && !Array.isArray(cur)) return refuse('conflict', `${formatPointer(path)} is ${kindOf(cur)}, not an array`);
      }
      // Checked: now build. Values of the request are copied so a retry starts from pristine input.
      const fresh = cloneJson(items);
      let array: unknown[];
      if (path.length === 0) {
        array = Array.isArray(root) ? root : [];
        if (root === undefined) draft.setValue(array);
      } else {
        let parent: unknown = root === undefined ? {} : root;
        if (root === undefined) draft.setValue(parent);
        for (let i = 0; i < path.length - 1; i++) {
          const token = path[i]!;
          if (Array.isArray(parent)) parent = parent[Number(token)];
          else {
            const obj = parent as Record<string, unknown>;
            if (getOwn(obj, token) === undefined) setOwn(obj, token, {});
            parent = obj[token];
          }
        }
        const last = path[path.length - 1]!;
        if (Array.isArray(parent)) array = parent[Number(last)] as unknown[];
        else {
          const obj = parent as Record<string, unknown>;
          if (getOwn(obj, last) === undefined) setOwn(obj, last, []);
          array = obj[last] as unknown[];
        }
      }
      for (const item of fresh) array.push(item);
      if (maxItems !== undefined && array.length > maxItems) array.splice(0, array.length - maxItems);
      if (input.ttlMs !== undefined) draft.ttlMs = input.ttlMs;
      draft.touched();
      return null;
    },
    describe(draft) {
      // Later mutations of the same batch may have reshaped the value: walk it defensively.
      let cur = draft.getValue();
      for (const token of path) cur = Array.isArray(cur) ? cur[Number(token)] : isObject(cur) ? getOwn(cur, token) : undefined;
      return { length: Array.isArray(cur) ? cur.length : 0 };
    },
  };
}

/** JSON Merge Patch (RFC 7396) of the value; creates the memory when absent. */
export function mergePatchMutation(patch: unknown, ttlMs: number | null | undefined, precondition: Precondition | undefined): Mutation {
  return {
    op: 'merge_patch',
    precondition,
    apply(draft) {
      const next = applyMergePatch(draft.getValue(), patch);
      draft.setValue(next);
      if (ttlMs !== undefined) draft.ttlMs = ttlMs;
      return null;
    },
  };
}

const PATCH_REFUSALS = { invalid: 'invalid_request', size: 'payload_too_large', test: 'conflict', path: 'conflict' } as const;

/** JSON Patch (RFC 6902) of an existing value: all operations or none; a failed `test` is a 409; copies total at most `maxCopyBytes`. */
export function jsonPatchMutation(ops: PatchOperation[], precondition: Precondition | undefined, maxCopyBytes?: number): Mutation {
  return {
    op: 'json_patch',
    precondition,
    apply(draft) {
      if (!draft.exists) return refuse('not_found', 'No such memory: a JSON Patch needs an existing value');
      const result = applyJsonPatch(draft.getValue(), ops, maxCopyBytes);
      if (!result.ok) return refuse(PATCH_REFUSALS[result.reason], result.message);
      // A patch of tests only changes nothing: no write, no new version.
      if (ops.some((o) => o.op !== 'test')) draft.setValue(result.value);
      return null;
    },
  };
}

/** Writes an old version's content back as a new version. */
export function restoreMutation(text: string, etag: string, ttlMs: number | null, version: number, precondition: Precondition | undefined): Mutation {
  return {
    op: 'restore',
    precondition,
    apply(draft) {
      draft.setText(text, etag);
      draft.ttlMs = ttlMs;
      draft.restoredFrom = version;
      return null;
    },
  };
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
