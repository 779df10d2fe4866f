// A user's memories seen as files: text read, listed by prefix, created, edited by compare-and-set, deleted, renamed.
//
// The memory service has no public entry for a custom mutation, so this module runs its own Mutator
// (the same compare-and-set loop and version history, over the same store): edits are re-applied to
// the fresh value on every conflict, so two conversations editing one file never lose an edit.
import type { Logger } from '../observe/logger.js';
import type { Draft, Refusal } from '../memory/draft.js';
import { refuse } from '../memory/draft.js';
import { History } from '../memory/history.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { MemoryMeta } from '../memory/meta.js';
import { storeMutation } from '../memory/mutations.js';
import { Mutator, type Mutation } from '../memory/mutator.js';
import type { Store } from '../storage/contract.js';

/** A file's text: a string value as is; any other JSON value pretty-printed (edits must keep it JSON). */
export interface FileText {
  text: string;
  /** False when the memory holds JSON other than a string (stored through the memory API). */
  isString: boolean;
}

/** What an edit of a file's text decided: the new text and a note for the model, or why not. */
export type TextEdit = { ok: true; text: string; note: string } | { ok: false; message: string };

export type EditOutcome = { ok: true; note: string } | { ok: false; refusal: Refusal };

/** Who owns the files: an account and one of its users. */
export interface Owner {
  accountId: string;
  userId: string;
}

/**
 * Length of `JSON.stringify(value, null, 2)` from the compact JSON text of the value, without
 * building it: each element of a non-empty container adds a newline and its indentation, each
 * member a space after the colon.
 */
export function prettyLength(compact: string): number {
  let extra = 0;
  let depth = 0;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (c === 34) {
      // A string: skip to its closing quote, escapes included.
      for (i++; i < compact.length && compact.charCodeAt(i) !== 34; i++) if (compact.charCodeAt(i) === 92) i++;
    } else if (c === 91 || c === 123) {
      const next = compact.charCodeAt(i + 1);
      if (next === 93 || next === 125) i++; // "[]" and "{}" stay as they are
      else extra += 1 + 2 * ++depth;
    } else if (c === 93 || c === 125) extra += 1 + 2 * --depth;
    else if (c === 44) extra += 1 + 2 * depth;
    else if (c === 58) extra += 1;
  }
  return compact.length + extra;
}

/**
 * The text of a JSON value as a file shows it. Other JSON than a string is pretty-printed, unless
 * that text would exceed `maxChars`: indentation grows with depth, so a deep value of a few KB
 * pretty-prints to MBs (then the compact JSON text, already at hand, is shown).
 */
export function textOf(value: unknown, compact: string, maxChars: number): FileText {
  if (typeof value === 'string') return { text: value, isString: true };
  return { text: prettyLength(compact) <= maxChars ? JSON.stringify(value, null, 2) : compact, isString: false };
}

/** A mutation applying `edit` to the file's text, on whatever value the current attempt reads. */
function textMutation(edit: (text: string) => TextEdit, done: { note: string }, maxChars: number): Mutation {
  return {
    op: 'memory_tool',
    apply(draft: Draft) {
      if (!draft.exists) return refuse('not_found', 'The file no longer exists');
      const current = textOf(draft.getValue(), draft.currentText()!, maxChars);
      const r = edit(current.text);
      if (!r.ok) return refuse('conflict', r.message);
      let next: unknown = r.text;
      if (!current.isString) {
        try {
          next = JSON.parse(r.text);
        } catch {
          return refuse('invalid_request', 'This memory holds JSON (it was stored through the memory API), and the edit would leave invalid JSON');
        }
      }
      draft.setValue(next);
      done.note = r.note;
      return null;
    },
  };
}

export class MemoryFiles {
  private readonly mutator: Mutator;

  constructor(
    private readonly memory: MemoryService,
    store: Store,
    logger: Logger,
  ) {
    const { limits } = memory;
    this.mutator = new Mutator(store, new History(store, limits.historyVersions, logger), {
      maxValueBytes: limits.maxValueBytes, maxDepth: memory.maxDataDepth, compressAboveBytes: limits.compressAboveBytes, defaultTtlMs: memory.ttlOf(undefined),
    });
  }

  /** The file at `key`, or null. Reads follow the operator's refreshOnRead, like context injection: files in use stay alive. */
  async read(o: Owner, key: string, now: number): Promise<(FileText & { meta: MemoryMeta; json: string }) | null> {
    const found = await this.memory.get(o.accountId, o.userId, key, now);
    if (!found) return null;
    return { ...textOf(JSON.parse(found.json), found.json, this.memory.limits.maxValueBytes), meta: found.meta, json: found.json };
  }

  /** Up to `limit` memories whose keys start with `prefix`, in key order; `more` when others follow. */
  async list(o: Owner, prefix: string, limit: number, now: number): Promise<{ entries: MemoryMeta[]; more: boolean }> {
    const entries: MemoryMeta[] = [];
    let after: string | undefined;
    for (;;) {
      const want = Math.min(1000, limit + 1 - entries.length);
      const page = await this.memory.list(o.accountId, o.userId, { prefix, after, limit: want }, now);
      entries.push(...page);
      if (page.length < want || entries.length > limit) break;
      after = page[page.length - 1]!.key;
    }
    return { entries: entries.slice(0, limit), more: entries.length > limit };
  }

  /** Whether any memory key starts with `prefix` (a directory exists). */
  async hasPrefix(o: Owner, prefix: string, now: number): Promise<boolean> {
    return (await this.memory.list(o.accountId, o.userId, { prefix, limit: 1 }, now)).length > 0;
  }

  /** Creates a file only when absent (the memory's default TTL). */
  async create(o: Owner, key: string, text: string, now: number): Promise<{ ok: true } | { ok: false; refusal: Refusal }> {
    const out = await this.memory.put(o.accountId, { userId: o.userId, key, data: text, precondition: { ifNoneMatch: '*' } }, now);
    return out.ok ? { ok: true } : { ok: false, refusal: out.refusal };
  }

  /** Edits a file's text by compare-and-set: `edit` runs again on the fresh text after a conflict. */
  async edit(o: Owner, key: string, edit: (text: string) => TextEdit): Promise<EditOutcome> {
    const done = { note: '' };
    const out = await this.mutator.run({ accountId: o.accountId, userId: o.userId, key }, textMutation(edit, done, this.memory.limits.maxValueBytes));
    if (!out.ok) return out;
    if (!out.meta) return { ok: false, refusal: refuse('not_found', 'The file no longer exists') };
    return { ok: true, note: done.note };
  }

  /** Deletes one file; false when it did not exist. */
  async delete(o: Owner, key: string, now: number): Promise<boolean> {
    const out = await this.memory.delete(o.accountId, o.userId, key, now);
    return out.ok && out.deleted;
  }

  /**
   * Moves one file: the copy is created only where nothing exists (same content, ETag and TTL), then
   * the original is deleted only if unchanged. An edit landing in between keeps the original:
   * both paths then exist, and nothing is lost.
   */
  async move(o: Owner, from: string, to: string, now: number): Promise<'moved' | 'missing' | 'exists' | 'kept_both' | Refusal> {
    const found = await this.memory.get(o.accountId, o.userId, from, now, false);
    if (!found) return 'missing';
    const { etag, ttlMs } = found.meta;
    const created = await this.mutator.run({ accountId: o.accountId, userId: o.userId, key: to }, storeMutation(found.json, etag, ttlMs, { ifNoneMatch: '*' }));
    if (!created.ok) return created.refusal.code === 'precondition_failed' ? 'exists' : created.refusal;
    const removed = await this.memory.delete(o.accountId, o.userId, from, now, { ifMatch: [etag] });
    if (!removed.ok) return removed.refusal.code === 'precondition_failed' ? 'kept_both' : removed.refusal;
    return 'moved';
  }
}
