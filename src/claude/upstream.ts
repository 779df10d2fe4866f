// The upstream Messages API through the official SDK: explicit key and URL, timeout, retries, abort.
import Anthropic, { APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Logger } from '../observe/logger.js';
import type { Redactor } from '../redact.js';
import { bodySource, collectedBody, createNodeFetch, type NodeFetch } from './node-fetch.js';
import type { ClaudeConfig } from './options.js';
import { firstRetryDelayMs, rawPost, rawTarget, relayedFrom, retryable, type RawTarget } from './raw-upstream.js';
import { readAll, type ChunkSource } from './sse.js';

/** Why the upstream gave no usable answer. Expected outcomes, returned, never thrown. */
export type UpstreamFailure =
  | {
      kind: 'status'; status: number; type: string | null; message: string | null; retryAfter: string | null; requestId: string | null;
      /** The upstream headers relayed to the client (see relayedHeaders). */
      headers?: Record<string, string>;
    }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'unreachable' }
  /** A 2xx that cannot be used: not a Message (null, not JSON, no usage...), or an event stream broken from its start. */
  | { kind: 'malformed' };

export type UpstreamResult =
  | {
      ok: true; status: number; contentType: string; requestId: string | null;
      /** The upstream headers relayed to the client (see relayedHeaders), request-id included. */
      headers: Record<string, string>;
      /** The body as it arrives; `text` instead when the fetch already holds all of it (a small JSON body). */
      body: ReadableStream<Uint8Array> | ChunkSource | null;
      text: string | null;
    }
  | { ok: false; failure: UpstreamFailure };

/** Request headers of the client passed upstream (anthropic-beta already checked against `claude.betas`). */
export interface ClientHeaders {
  beta?: string | undefined;
  version?: string | undefined;
}

/**
 * The upstream response headers a client gets: `request-id` (for support), `retry-after` (when to
 * retry a 429/529), and `anthropic-ratelimit-*` (the upstream's limits, so that clients pace
 * themselves instead of retrying blindly). Everything else is withheld: `anthropic-organization-id`
 * names the operator's Anthropic account; `set-cookie`, `cf-*`, `server`, `via` and the framing
 * headers (content-length, -encoding, connection) belong to the upstream hop, not to our answer.
 */
export function relayedHeaders(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  headers?.forEach((value, name) => {
    if (name === 'request-id' || name === 'retry-after' || name.startsWith('anthropic-ratelimit-')) out[name] = value;
  });
  return out;
}

const requestHeaders = (h: ClientHeaders): Record<string, string> | undefined => {
  if (!h.beta && !h.version) return undefined;
  const out: Record<string, string> = {};
  if (h.beta) out['anthropic-beta'] = h.beta;
  if (h.version) out['anthropic-version'] = h.version;
  return out;
};

/** The one place the SDK is configured. */
export class Upstream {
  private readonly client: Anthropic;
  private readonly http: NodeFetch = createNodeFetch();
  /** The headers the SDK sends (auth, version, user agent...), built by it once for the raw first attempts. */
  private base: Promise<Record<string, string>> | undefined;
  private readonly urls = new Map<string, RawTarget>();

  constructor(
    private readonly config: Pick<ClaudeConfig, 'apiKey' | 'baseURL' | 'timeoutMs' | 'maxRetries'>,
    logger: Logger,
    /** Upstream messages may quote what they were sent (the operator's key...): scrubbed where they enter. */
    private readonly redactor: Redactor,
  ) {
    this.client = new Anthropic({
      // node:http with keep-alive instead of the global (undici) fetch: see node-fetch.ts and BENCHMARKS.md.
      fetch: this.http.fetch,
      // Everything explicit, so that the SDK reads none of its environment variables for us:
      // the operator configures aipaygent, not the process environment of the host.
      apiKey: config.apiKey,
      baseURL: config.baseURL,
      timeout: config.timeoutMs,
      maxRetries: config.maxRetries,
      webhookKey: null,
      openTelemetry: false,
      logLevel: 'warn',
      logger: { error: (m, ...a) => logger.error(`aipaygent: anthropic sdk: ${m}`, a), warn: (m, ...a) => logger.warn(`aipaygent: anthropic sdk: ${m}`, a), info: () => {}, debug: () => {} },
      defaultHeaders: unsetEnvHeaders(process.env.ANTHROPIC_CUSTOM_HEADERS),
    });
  }

  /** Ends the kept-alive upstream connections. */
  close(): void {
    this.http.close();
  }

  /**
   * Sends one request (Messages by default). `signal` aborts it (headers or body) when our client goes
   * away. The first attempt goes on the raw connection (raw-upstream.ts); one the SDK would retry
   * (429, 529, 5xx, timeout, connection error) is retried by the SDK after the delay it would wait.
   */
  async send(body: Record<string, unknown>, signal: AbortSignal, headers: ClientHeaders, path = '/v1/messages'): Promise<UpstreamResult> {
    const base = await (this.base ??= this.sdkHeaders());
    const extra = requestHeaders(headers);
    const raw = await rawPost(this.url(path), extra ? { ...base, ...extra } : base, JSON.stringify(body), signal, this.config.timeoutMs, this.http.agents);
    const retries = this.config.maxRetries;
    if (!raw.ok) {
      if (raw.why === 'aborted' || retries === 0) return { ok: false, failure: { kind: raw.why } };
      return this.retry(body, signal, headers, path, firstRetryDelayMs(undefined));
    }
    const contentType = raw.headers['content-type'] ?? 'application/json';
    const requestId = (raw.headers['request-id'] as string | undefined) ?? null;
    if (raw.status < 400) {
      return { ok: true, status: raw.status, body: raw.source, text: raw.text, contentType, requestId, headers: relayedFrom(raw.headers) };
    }
    if (retries > 0 && retryable(raw.status, raw.headers)) {
      await raw.source?.cancel();
      return this.retry(body, signal, headers, path, firstRetryDelayMs(raw.headers));
    }
    const read = raw.text !== null ? { ok: true as const, text: raw.text } : await readAll(raw.source!, this.config.timeoutMs);
    let error: { error?: { type?: unknown; message?: unknown } } = {};
    try {
      error = read.ok ? JSON.parse(read.text) : {};
    } catch {
      // not JSON: no type or message, as the SDK reports it
    }
    const type = typeof error?.error?.type === 'string' ? error.error.type : null;
    const message = typeof error?.error?.message === 'string' ? this.redactor.text(error.error.message) : null;
    const retryAfter = raw.headers['retry-after'] ?? null;
    return { ok: false, failure: { kind: 'status', status: raw.status, type, message, retryAfter, requestId, headers: relayedFrom(raw.headers) } };
  }

  /** The SDK's own headers for a request, once (without the body's length). */
  private async sdkHeaders(): Promise<Record<string, string>> {
    const { req } = await this.client.buildRequest({ method: 'post', path: '/v1/messages', body: {} });
    const out: Record<string, string> = {};
    new Headers(req.headers).forEach((value, name) => {
      if (name !== 'content-length') out[name] = value;
    });
    return out;
  }

  /** baseURL + path, as the SDK joins them (a base with a path keeps it). */
  private url(path: string): RawTarget {
    let url = this.urls.get(path);
    if (!url) this.urls.set(path, (url = rawTarget(new URL(this.config.baseURL.replace(/\/+$/, '') + path))));
    return url;
  }

  /** The retries, through the SDK (its backoff and classification), after the first attempt's delay. */
  private async retry(body: Record<string, unknown>, signal: AbortSignal, headers: ClientHeaders, path: string, delayMs: number): Promise<UpstreamResult> {
    const slept = await new Promise<boolean>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, delayMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (!slept) return { ok: false, failure: { kind: 'aborted' } };
    return this.viaSdk(body, signal, headers, path, this.config.maxRetries - 1);
  }

  /** One request through the SDK, with `maxRetries` retries. */
  private async viaSdk(body: Record<string, unknown>, signal: AbortSignal, headers: ClientHeaders, path: string, maxRetries: number): Promise<UpstreamResult> {
    try {
      const response = await this.client
        .post(path, { body, signal, stream: body.stream === true, headers: requestHeaders(headers), maxRetries })
        .asResponse();
      const contentType = response.headers.get('content-type') ?? 'application/json';
      // An event stream is always relayed as a stream, even one that arrived whole.
      const whole = contentType.startsWith('text/event-stream') ? undefined : collectedBody(response);
      const stream = whole ? null : (bodySource(response) ?? (response.body as ReadableStream<Uint8Array> | null));
      if (!whole && !stream) return { ok: false, failure: { kind: 'unreachable' } };
      return {
        ok: true,
        status: response.status,
        body: stream,
        text: whole ? whole.toString('utf8') : null,
        contentType,
        requestId: response.headers.get('request-id'),
        headers: relayedHeaders(response.headers),
      };
    } catch (error) {
      return { ok: false, failure: classify(error, signal, this.redactor) };
    }
  }
}

function classify(error: unknown, signal: AbortSignal, redactor: Redactor): UpstreamFailure {
  if (error instanceof APIUserAbortError || signal.aborted) return { kind: 'aborted' };
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof APIError && typeof error.status === 'number') {
    return {
      kind: 'status', status: error.status, type: error.type ?? null, message: error.apiMessage == null ? null : redactor.text(error.apiMessage),
      retryAfter: error.headers?.get('retry-after') ?? null, requestId: error.requestID ?? null, headers: relayedHeaders(error.headers),
    };
  }
  return { kind: 'unreachable' };
}

/**
 * The SDK adds the headers of ANTHROPIC_CUSTOM_HEADERS to every request even when configured
 * explicitly; a null default header removes one.
 */
function unsetEnvHeaders(raw: string | undefined): Record<string, null> {
  const out: Record<string, null> = {};
  for (const line of (raw ?? '').split('\n')) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    if (name) out[name] = null;
  }
  return out;
}
