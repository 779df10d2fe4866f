// Server-sent events over fetch: a streamed Claude answer read as an async iterator of parsed events.
import { AipaygentClientError } from './errors.js';
import type { ClaudeStreamEvent } from './types.js';

/** The comment aipaygent ends a billed stream with (`: aipaygent-cost-micro-usd=<n>`). */
const COST_COMMENT = /^aipaygent-cost-micro-usd=(\d+)$/;

/**
 * A streamed Claude answer. Iterate it once for the events; `costMicroUsd` is known after the last one.
 * An `error` event (the upstream failed mid-stream) is thrown as an AipaygentClientError.
 */
export class ClaudeStream implements AsyncIterable<ClaudeStreamEvent> {
  /** What the call was charged (micro-USD), once the stream ended; undefined before, or if it was cut. */
  costMicroUsd: number | undefined;
  /** Anthropic's request id, from the `request-id` header. */
  readonly requestId: string | undefined;
  private consumed = false;

  constructor(private readonly res: Response) {
    this.requestId = res.headers.get('request-id') ?? undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ClaudeStreamEvent> {
    if (this.consumed) throw new TypeError('A ClaudeStream can be iterated only once');
    this.consumed = true;
    const reader = this.res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (value) buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = this.parse(block);
          if (event) yield event;
        }
        if (done) break;
      }
      const last = buffer.trim() ? this.parse(buffer) : undefined;
      if (last) yield last;
    } finally {
      // Breaking out of the loop cancels the request: the server stops and bills only what was used.
      await reader.cancel().catch(() => {});
    }
  }

  /** One SSE block -> an event; comments only update `costMicroUsd`. */
  private parse(block: string): ClaudeStreamEvent | undefined {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        const cost = COST_COMMENT.exec(line.slice(1).trim());
        if (cost) this.costMicroUsd = Number(cost[1]);
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) return undefined;
    const text = data.join('\n');
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (event === 'error') {
      throw new AipaygentClientError({ status: this.res.status, code: String(parsed?.error?.type ?? 'stream_error'), message: String(parsed?.error?.message ?? text), body: parsed });
    }
    return { event, data: parsed };
  }
}
