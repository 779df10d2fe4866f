// The digest of a body a route streams itself (NDJSON import), for Idempotency-Key: taken while the route reads it, compared on a replay.
import { createHash, type Hash } from 'node:crypto';
import { AipaygentError } from '../errors.js';
import type { BodySource, CoreRequest } from './types.js';

/** A body source that hashes what passes through it. */
export interface DigestingBody {
  /** The source the route reads instead of the request's own: the same bytes. */
  body: BodySource;
  /** `<bytes>:<sha256>` of the body once it was read to its end; undefined while it was not (stopped early, failed). */
  digest(): string | undefined;
}

const finish = (hash: Hash, bytes: number) => `${bytes}:${hash.digest('base64url')}`;

/** The bytes a host parser left (a parsed object counts as its JSON text). */
function parsedBytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  return Buffer.from(JSON.stringify(value ?? null), 'utf8');
}

/** The digest of a body that is already whole: none (empty) or left by the host's parser. */
const digestOfWhole = (source: Exclude<BodySource, { kind: 'stream' }>): string => {
  const bytes = source.kind === 'none' ? new Uint8Array(0) : parsedBytes(source.value);
  return finish(createHash('sha256').update(bytes), bytes.byteLength);
};

/** Wraps `source` so that reading it also digests it. */
export function digestingBody(source: BodySource): DigestingBody {
  if (source.kind !== 'stream') {
    const digest = digestOfWhole(source);
    return { body: source, digest: () => digest };
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  // Everything of the source (its length, discard, the time limits it is read with) except what is digested.
  const body: BodySource = {
    ...source,
    async read(limit, timeoutMs) {
      const all = await source.read(limit, timeoutMs);
      digest = finish(hash.update(all), all.byteLength);
      return all;
    },
  };
  if (source.chunks) {
    const chunks = source.chunks.bind(source);
    body.chunks = async function* (limit, idleTimeoutMs) {
      for await (const chunk of chunks(limit, idleTimeoutMs)) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        yield chunk;
      }
      // Reached only when the reader took every chunk: a body left half read has no digest.
      digest = finish(hash, bytes);
    };
  }
  return { body, digest: () => digest };
}

/**
 * Whether the body has the digest `expected` (`<bytes>:<sha256>`), read to compare; reading stops
 * as soon as it is longer than the expected length (then it differs).
 */
export async function bodyMatches(source: BodySource, expected: string, timeoutMs: number): Promise<boolean> {
  if (source.kind !== 'stream') return digestOfWhole(source) === expected;
  const limit = Number(expected.slice(0, expected.indexOf(':')));
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    if (source.chunks) {
      for await (const chunk of source.chunks(limit, timeoutMs)) {
        hash.update(chunk);
        bytes += chunk.byteLength;
      }
    } else {
      const all = await source.read(limit, timeoutMs);
      hash.update(all);
      bytes = all.byteLength;
    }
  } catch (error) {
    // Longer than the body it must equal: another body.
    if (error instanceof AipaygentError && error.code === 'payload_too_large') return false;
    throw error;
  }
  return finish(hash, bytes) === expected;
}

/** The request with another body source; every other member read from the request itself (its getters are lazy). */
export function withBody(req: CoreRequest, body: BodySource): CoreRequest {
  return {
    method: req.method, path: req.path, query: req.query, headers: req.headers, body,
    get signal() {
      return req.signal;
    },
    get ip() {
      return req.ip;
    },
    get mountPath() {
      return req.mountPath;
    },
  };
}
