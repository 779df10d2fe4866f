// The small plain request/response objects the core speaks; adapters translate to and from them.

/** Where the request body comes from: parsed by the host, a stream to read on demand, or none. */
export type BodySource =
  | { kind: 'parsed'; value: unknown }
  | {
      kind: 'stream';
      /** The declared Content-Length; undefined for a chunked body (its length is known only at its end). */
      length?: number | undefined;
      /** The whole body; over the limit it throws 413; not all there within `timeoutMs` (when given), 408. */
      read(limitBytes: number, timeoutMs?: number): Promise<Uint8Array>;
      /** The body chunk by chunk, for routes that stream it (NDJSON import): 413 over the limit, 408 when no chunk comes for `idleTimeoutMs`. */
      chunks?(limitBytes: number, idleTimeoutMs?: number): AsyncIterable<Uint8Array>;
      /**
       * The body is refused unread (bad key, no room): take at most a little more of it, so that the client
       * can still read the answer, then close its connection. Without it the host drains the whole body.
       */
      discard?(): void;
    }
  | { kind: 'none' };

/**
 * A request as the core sees it. The node bridge makes `signal`, `ip` and `mountPath` on first read
 * (getters on its prototype): read them from the request itself; a `{ ...req }` copy would not have them.
 */
export interface CoreRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** Path relative to the mount point, starting with "/", without the query string. */
  path: string;
  /** The raw query string, without "?". */
  query: string;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: BodySource;
  /** Fires when the client goes away before the response is finished. */
  signal: AbortSignal;
  /** Client address as the adapter determined it (trustProxy is the host's choice). */
  ip?: string | undefined;
  /**
   * Where the mount point is, as the client sees it ("" at the root, "/ai" under `app.use('/ai', …)`):
   * for absolute links in generated documents (OpenAPI servers, the docs page).
   */
  mountPath?: string | undefined;
}

/** Body of a core response: serialized text, bytes, or a stream of chunks (SSE, NDJSON). */
export type CoreBody = string | Uint8Array | AsyncIterable<string | Uint8Array> | null;

/** A response as the core produces it. */
export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  body: CoreBody;
}
