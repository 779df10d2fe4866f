// The record tag: the content ETag plus the few facts the contract has no field for (original TTL, history op).
//
// Format: `"<etag>"` then optional `;t=<ttl ms>`, `;o=<operation>`, `;r=<restored version>`. The etag is
// a quoted base64url hash, so it never contains ';' and the first ';' ends it on every backend.

export interface TagInfo {
  /** Strong entity tag of the JSON content, quoted. */
  etag: string;
  /** The TTL the record was written with (what a sliding refresh renews); null: never expires or unknown. */
  ttlMs: number | null;
  /** History records only: the operation that produced the version. */
  op?: string | undefined;
  /** History records only: the version a restore copied. */
  restoredFrom?: number | undefined;
}

export function formatTag(info: TagInfo): string {
  let tag = info.etag;
  if (info.ttlMs !== null) tag += `;t=${info.ttlMs}`;
  if (info.op !== undefined) tag += `;o=${info.op}`;
  if (info.restoredFrom !== undefined) tag += `;r=${info.restoredFrom}`;
  return tag;
}

export function parseTag(tag: string): TagInfo {
  const semi = tag.indexOf(';');
  if (semi === -1) return { etag: tag, ttlMs: null };
  // The usual tag of a memory: its etag and TTL only.
  if (tag.startsWith(';t=', semi) && tag.indexOf(';', semi + 1) === -1) return { etag: tag.slice(0, semi), ttlMs: Number(tag.slice(semi + 3)) };
  const parts = tag.split(';');
  const info: TagInfo = { etag: parts[0]!, ttlMs: null };
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const value = part.slice(2);
    if (part.startsWith('t=')) info.ttlMs = Number(value);
    else if (part.startsWith('o=')) info.op = value;
    else if (part.startsWith('r=')) info.restoredFrom = Number(value);
  }
  return info;
}
