// The first attempt of a proxied call, on the raw keep-alive connection: no SDK request building, no Response objects.
//
// Why: on the pass-through path the SDK cost more than anything else of ours in the profile
// (`bench/claude-proxy.ts --profile`: building options, headers and an AbortController per call, a
// fetch Response with its Headers, ~40% of the proxy's JS time per call) for a request whose
// headers never change. The SDK still builds those headers (once, see Upstream) and makes every
// retry: a first attempt that fails in a way the SDK would retry is handed to it.
import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { nodeSource } from './node-fetch.js';
import type { ChunkSource } from './sse.js';

/** Where a request goes, as node:http takes it (built once per path: a URL would be converted on every call). */
export interface RawTarget {
  https: boolean;
  hostname: string;
  port: string;
  path: string;
}

export const rawTarget = (url: URL): RawTarget => ({
  https: url.protocol === 'https:', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search,
});

/** The relayed response headers (see upstream.ts relayedHeaders), read from node's parsed headers without a Headers object. */
export function relayedFrom(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in h) {
    if (name === 'request-id' || name === 'retry-after' || name.startsWith('anthropic-ratelimit-')) {
      const v = h[name];
      if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
    }
  }
  return out;
}

/** JSON bodies up to this many bytes are collected whole (as node-fetch.ts does). */
const SMALL_BODY = 64 * 1024;

export type RawAnswer = { ok: true; status: number; headers: IncomingHttpHeaders; text: string | null; source: ChunkSource | null };
export type RawOutcome = RawAnswer | { ok: false; why: 'timeout' | 'aborted' | 'unreachable' };

/**
 * One POST. Resolves once the headers of an event stream (or of a large body) arrived, or once a
 * small JSON body is complete; `timeoutMs` bounds that time. Never rejects.
 */
export function rawPost(
  url: RawTarget, headers: Record<string, string>, body: string, signal: AbortSignal, timeoutMs: number, agents: { http: HttpAgent; https: HttpsAgent },
): Promise<RawOutcome> {
  return new Promise<RawOutcome>((resolve) => {
    if (signal.aborted) return resolve({ ok: false, why: 'aborted' });
    let done = false;
    let response: IncomingMessage | undefined;
    const finish = (out: RawOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(out);
    };
    const fail = (why: 'timeout' | 'aborted' | 'unreachable') => {
      finish({ ok: false, why });
      req.destroy();
      response?.destroy();
    };
    const onAbort = () => fail('aborted');
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    const send = url.https ? httpsRequest : httpRequest;
    const options = { hostname: url.hostname, port: url.port, path: url.path, method: 'POST', headers, agent: url.https ? agents.https : agents.http };
    const req = send(options, (res) => {
      response = res;
      const status = res.statusCode ?? 502;
      const type = res.headers['content-type'] ?? '';
      const streamed = () => {
        // From here the body's reader owns the connection: an abort ends it through the relay.
        finish({ ok: true, status, headers: res.headers, text: null, source: nodeSource(res) });
      };
      if (type.startsWith('text/event-stream') || Number(res.headers['content-length']) > SMALL_BODY) return streamed();
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        if ((size += chunk.length) <= SMALL_BODY) return;
        res.off('data', onData).off('end', onEnd).pause();
        for (let i = chunks.length - 1; i >= 0; i--) res.unshift(chunks[i]!);
        streamed();
      };
      const onEnd = () => finish({ ok: true, status, headers: res.headers, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'), source: null });
      res.on('data', onData).once('end', onEnd);
      res.once('error', () => fail(signal.aborted ? 'aborted' : 'unreachable'));
    });
    req.once('error', () => fail(signal.aborted ? 'aborted' : 'unreachable'));
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

/** Whether the SDK would retry this answer (its `shouldRetry`: x-should-retry, 408, 409, 429, 5xx). */
export function retryable(status: number, headers: IncomingHttpHeaders): boolean {
  const told = headers['x-should-retry'];
  if (told === 'true') return true;
  if (told === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** How long the SDK waits before its first retry: retry-after-ms, retry-after (seconds or a date), else ~0.5 s with jitter. */
export function firstRetryDelayMs(headers: IncomingHttpHeaders | undefined, now = Date.now()): number {
  let ms: number | undefined;
  const inMs = parseFloat(String(headers?.['retry-after-ms'] ?? ''));
  if (!Number.isNaN(inMs)) ms = inMs;
  const after = headers?.['retry-after'];
  if (after && ms === undefined) {
    const seconds = parseFloat(after);
    ms = Number.isNaN(seconds) ? Date.parse(after) - now : seconds * 1000;
  }
  if (ms === undefined || !(ms > 0 && ms <= 2 ** 31 - 1)) ms = 500 * (1 - Math.random() * 0.25);
  return ms;
}
