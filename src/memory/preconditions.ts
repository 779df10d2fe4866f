// Conditional writes: If-Match / If-None-Match evaluated against the content ETag of a memory.

/** Entity tags a condition lists, or '*' (any current representation). */
export type TagList = '*' | string[];

/** The conditions of one write; both empty: unconditional. */
export interface Precondition {
  /** The write applies only if the memory exists with one of these ETags ('*': exists at all). */
  ifMatch?: TagList | undefined;
  /** The write applies only if the memory does not exist ('*') or has none of these ETags. */
  ifNoneMatch?: TagList | undefined;
}

export const isConditional = (p: Precondition | undefined): p is Precondition => !!p && (p.ifMatch !== undefined || p.ifNoneMatch !== undefined);

/**
 * Parses an If-Match / If-None-Match header value (RFC 9110 §13.1): "*" or a comma-separated list of
 * entity tags, weak ones written W/"…". Returns null when the value is malformed.
 */
export function parseTagList(header: string): TagList | null {
  const value = header.trim();
  if (value === '*') return '*';
  const tags: string[] = [];
  const re = /\s*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(,|$)/y;
  let at = 0;
  while (at < value.length) {
    re.lastIndex = at;
    const m = re.exec(value);
    if (!m) return null;
    tags.push((m[1] ?? '') + m[2]!);
    at = re.lastIndex;
  }
  return tags.length ? tags : null;
}

/**
 * Whether the write may proceed given the current state. If-Match compares strongly (a weak tag
 * never matches); If-None-Match weakly, as RFC 9110 §13.1.1-2 say. `etag` is asked only when needed.
 */
export function preconditionHolds(p: Precondition, exists: boolean, etag: () => string): boolean {
  if (p.ifMatch !== undefined) {
    if (!exists) return false;
    if (p.ifMatch !== '*' && !p.ifMatch.includes(etag())) return false;
  }
  if (p.ifNoneMatch !== undefined) {
    if (p.ifNoneMatch === '*') return !exists;
    if (exists) {
      const current = etag();
      if (p.ifNoneMatch.some((t) => (t.startsWith('W/') ? t.slice(2) : t) === current)) return false;
    }
  }
  return true;
}
