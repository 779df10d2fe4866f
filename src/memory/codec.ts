// Encodes memory values for the store: JSON text as UTF-8, gzip-compressed above a threshold.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
// Below this, zlib's sync call is cheaper than a trip through the thread pool.
const SYNC_LIMIT = 64 * 1024;

/** JSON text never starts with gzip's magic bytes, so the first two bytes tell the format apart. */
const isGzip = (b: Uint8Array): boolean => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

export interface Encoded {
  value: Uint8Array;
  /** Bytes of the JSON text before compression. */
  size: number;
  /** Strong entity tag of the content. */
  etag: string;
}

/** Strong ETag of JSON text: a quoted, truncated SHA-256 (same text, same tag, on every backend). */
export const etagOf = (text: Buffer): string => `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;

/** The same tag from a string (hashes its UTF-8 bytes without copying them into a Buffer first). */
export const etagOfText = (text: string): string => `"${createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 27)}"`;

export async function encodeJson(text: string, compressAbove: number): Promise<Encoded> {
  const raw = Buffer.from(text, 'utf8');
  const etag = etagOf(raw);
  if (raw.length <= compressAbove) return { value: raw, size: raw.length, etag };
  const packed = raw.length <= SYNC_LIMIT ? gzipSync(raw) : await gzipAsync(raw);
  // Incompressible values stay raw: compression must never cost space.
  return packed.length < raw.length ? { value: packed, size: raw.length, etag } : { value: raw, size: raw.length, etag };
}

/** The JSON text of a stored value: at once when it is plain or small, through the thread pool when a large gzip. */
export function decodeJson(value: Uint8Array): string | Promise<string> {
  if (!isGzip(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (value.length <= SYNC_LIMIT / 4) return gunzipSync(value).toString('utf8');
  return gunzipAsync(value).then((raw) => raw.toString('utf8'));
}
