// JSON Patch (RFC 6902), written here rather than taken from the `rfc6902` package (the defects found are
// kept as a test in test/memory/patches.test.ts): every path resolves through own members only, array indexes are
// checked strictly, and a patch applies completely or not at all.
import { formatPointer, isIndex, parsePointer, resolve } from './json-pointer.js';
import { cloneJson, isObject, jsonEqual, jsonSizeWithin, setOwn } from './json-value.js';

export type PatchOpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

export interface PatchOperation {
  op: PatchOpName;
  path: string;
  from?: string | undefined;
  value?: unknown;
}

type Reason = 'test' | 'path' | 'invalid' | 'size';

/**
 * Why a patch did not apply: `test` (a test operation failed), `path` (a location does not exist),
 * `invalid` (a malformed operation) or `size` (its copies went past the limit).
 */
export type PatchResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: Reason; index: number; message: string };

class Failure {
  constructor(
    readonly reason: Reason,
    readonly message: string,
  ) {}
}

/** What `copy` operations may still copy, in bytes of JSON. Unbounded, copying the document into itself doubles it each time: 40 copies fill any memory. */
interface CopyBudget {
  limit: number;
  left: number;
}

const pointerOf = (p: string | undefined, field: string): string[] => {
  const tokens = p === undefined ? null : parsePointer(p);
  if (!tokens) throw new Failure('invalid', `${field} is not a JSON Pointer`);
  return tokens;
};

/** The container holding the last token of `tokens`, which must exist. */
function parentOf(doc: unknown, tokens: string[]): unknown {
  const parent = resolve(doc, tokens.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) throw new Failure('path', `${formatPointer(tokens.slice(0, -1)) || 'the document'} is not an existing object or array`);
  return parent;
}

function add(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else if (isIndex(last) && Number(last) <= parent.length) parent.splice(Number(last), 0, value);
    else throw new Failure('path', `${formatPointer(tokens)}: index out of range`);
  } else setOwn(parent as Record<string, unknown>, last, value);
  return doc;
}

function remove(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) throw new Failure('path', 'the whole document cannot be removed');
  if (resolve(doc, tokens) === undefined) throw new Failure('path', `${formatPointer(tokens)} does not exist`);
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
  return doc;
}

function step(doc: unknown, op: PatchOperation, budget: CopyBudget): unknown {
  const path = pointerOf(op.path, 'path');
  switch (op.op) {
    case 'add':
      return add(doc, path, cloneJson(op.value));
    case 'remove':
      return remove(doc, path);
    case 'replace': {
      if (resolve(doc, path) === undefined) throw new Failure('path', `${op.path} does not exist`);
      if (path.length === 0) return cloneJson(op.value);
      const parent = parentOf(doc, path);
      const last = path[path.length - 1]!;
      if (Array.isArray(parent)) parent[Number(last)] = cloneJson(op.value);
      else setOwn(parent as Record<string, unknown>, last, cloneJson(op.value));
      return doc;
    }
    case 'move': {
      const from = pointerOf(op.from, 'from');
      const value = resolve(doc, from);
      if (value === undefined) throw new Failure('path', `from ${op.from} does not exist`);
      if (from.length < path.length && from.every((t, i) => t === path[i])) throw new Failure('path', `cannot move ${op.from} into its own child ${op.path}`);
      if (from.length === path.length && from.every((t, i) => t === path[i])) return doc;
      return add(remove(doc, from), path, value);
    }
    case 'copy': {
      const value = resolve(doc, pointerOf(op.from, 'from'));
      if (value === undefined) throw new Failure('path', `from ${op.from} does not exist`);
      const size = jsonSizeWithin(value, budget.left);
      if (size > budget.left) throw new Failure('size', `the copies of this patch would exceed ${budget.limit} bytes of JSON`);
      budget.left -= size;
      return add(doc, path, cloneJson(value));
    }
    case 'test': {
      const actual = resolve(doc, path);
      if (actual === undefined) throw new Failure('test', `test ${op.path}: the location does not exist`);
      if (!jsonEqual(actual, op.value)) throw new Failure('test', `test ${op.path}: the value differs`);
      return doc;
    }
    default:
      throw new Failure('invalid', `unknown op "${String((op as { op: unknown }).op)}"`);
  }
}

/**
 * Applies `ops` in order to a copy of `doc`: all of them, or none (the first failure is reported).
 * The values its `copy` operations copy total at most `maxCopyBytes` (of JSON text, at least), so
 * the work stays linear in the document and the patch.
 */
export function applyJsonPatch(doc: unknown, ops: readonly PatchOperation[], maxCopyBytes = Infinity): PatchResult {
  let value = cloneJson(doc);
  const budget: CopyBudget = { limit: maxCopyBytes, left: maxCopyBytes };
  for (let i = 0; i < ops.length; i++) {
    try {
      value = step(value, ops[i]!, budget);
    } catch (error) {
      if (!(error instanceof Failure)) throw error;
      return { ok: false, reason: error.reason, index: i, message: `operation ${i} (${ops[i]!.op}): ${error.message}` };
    }
  }
  return { ok: true, value };
}
