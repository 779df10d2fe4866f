// The memory tool loop streamed: every turn is streamed upstream and relayed live as one Message.
//
// What the client reads is one Messages stream: the first turn's message_start; the content blocks
// of every turn as they arrive (renumbered), except the memory tool_use blocks, which are run here;
// pings while the tools run; then one message_delta (the last turn's stop_reason, the usage summed
// over the turns) and message_stop; then SSE comments: the total cost, the steps, why it stopped early.
import { StoreUnavailableError } from '../errors.js';
import { commentLine, errorEvent } from './sse.js';
import { STREAM_COST_COMMENT, type ClaudeOutcome } from './proxy.js';
import { addUsage, type StopReason, type ToolLoop } from './tool-loop.js';

type Block = Record<string, any>;
interface Frame {
  raw: string;
  event: string;
  data: Block | null;
  comment: string | null;
}

const encoder = new TextEncoder();
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';
const COST_PREFIX = `${STREAM_COST_COMMENT}=`;
const frameOf = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** Splits SSE text into frames (Anthropic frames with "\n"; "\r\n" tolerated). */
class SseFrames {
  private readonly decoder = new TextDecoder();
  private pending = '';

  feed(chunk: Uint8Array): Frame[] {
    const buf = (this.pending + this.decoder.decode(chunk, { stream: true })).replace(/\r\n?/g, '\n');
    const out: Frame[] = [];
    let start = 0;
    let end: number;
    while ((end = buf.indexOf('\n\n', start)) !== -1) {
      if (end > start) out.push(parse(buf.slice(start, end)));
      start = end + 2;
    }
    this.pending = buf.slice(start);
    return out;
  }
}

function parse(text: string): Frame {
  if (text.startsWith(':')) return { raw: `${text}\n\n`, event: '', data: null, comment: text.slice(1).trim() };
  let event = '';
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
  }
  let parsed: Block | null = null;
  try {
    parsed = data.length ? JSON.parse(data.join('\n')) : null;
  } catch {
    // forwarded as is
  }
  return { raw: `${text}\n\n`, event, data: parsed, comment: null };
}

/** One upstream turn: its content rebuilt from the deltas (to send it back), and what the client was shown. */
class Turn {
  readonly content: Block[] = [];
  stopReason: unknown = null;
  delta: Block = {};
  usage: Record<string, unknown> = {};
  sawStop = false;
  failed = false;
  private readonly partial = new Map<number, string>();
  private readonly hidden = new Set<number>();
  private readonly shownAs = new Map<number, number>();

  constructor(
    private readonly loop: ToolLoop,
    private readonly first: boolean,
    private readonly next: { index: number },
  ) {}

  /** Folds one frame into the turn; returns the text to send to the client, if any. */
  handle(f: Frame): string | null {
    if (f.comment !== null) {
      if (!f.comment.startsWith(COST_PREFIX)) return f.raw;
      this.loop.cost += Number(f.comment.slice(COST_PREFIX.length)) || 0;
      return null;
    }
    const d = f.data;
    if (f.event === 'error') this.failed = true;
    if (!d) return f.event === 'message_stop' || f.event === 'message_delta' ? null : f.raw;
    switch (f.event) {
      case 'message_start':
        this.usage = { ...d.message?.usage };
        return this.first ? f.raw : null;
      case 'message_delta':
        this.stopReason = d.delta?.stop_reason ?? null;
        this.delta = d;
        Object.assign(this.usage, d.usage);
        return null;
      case 'message_stop':
        this.sawStop = true;
        return null;
      case 'content_block_start':
        return this.start(d, f.raw);
      case 'content_block_delta':
        this.accumulate(d.index, d.delta ?? {});
        return this.relabel(d, f.raw);
      case 'content_block_stop': {
        const json = this.partial.get(d.index);
        const block = this.content[d.index];
        if (json !== undefined && block) {
          try {
            block.input = json === '' ? {} : JSON.parse(json);
          } catch {
            block.input = {};
          }
        }
        return this.relabel(d, f.raw);
      }
      default:
        return f.raw;
    }
  }

  private start(d: Block, raw: string): string | null {
    const block = structuredClone(d.content_block ?? {}) as Block;
    this.content[d.index] = block;
    if (block.type === 'tool_use' || block.type === 'server_tool_use') this.partial.set(d.index, '');
    if (this.loop.isMemoryCall(block)) {
      this.hidden.add(d.index);
      return null;
    }
    this.shownAs.set(d.index, this.next.index++);
    return this.relabel(d, raw);
  }

  private accumulate(index: number, delta: Block): void {
    const block = this.content[index];
    if (!block) return;
    if (delta.type === 'text_delta') block.text = (block.text ?? '') + delta.text;
    else if (delta.type === 'input_json_delta') this.partial.set(index, (this.partial.get(index) ?? '') + delta.partial_json);
    else if (delta.type === 'thinking_delta') block.thinking = (block.thinking ?? '') + delta.thinking;
    else if (delta.type === 'signature_delta') block.signature = delta.signature;
    else if (delta.type === 'citations_delta') block.citations = [...(block.citations ?? []), delta.citation];
  }

  /** The frame with the client's block index (blocks are renumbered across turns), or nothing for hidden blocks. */
  private relabel(d: Block, raw: string): string | null {
    if (this.hidden.has(d.index)) return null;
    const index = this.shownAs.get(d.index);
    return index === undefined || index === d.index ? raw : frameOf(String(d.type), { ...d, index });
  }
}

/** Relays the turns one after the other; `chunks` is the first turn's stream. */
async function* relayTurns(loop: ToolLoop, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const next = { index: 0 };
  let current: AsyncIterable<Uint8Array> | null = chunks;
  let last: Turn | null = null;
  let stopped: StopReason | undefined;
  let broken = false;
  while (current) {
    const turn: Turn = new Turn(loop, last === null, next);
    const frames = new SseFrames();
    for await (const chunk of current) {
      for (const f of frames.feed(chunk)) {
        const out = turn.handle(f);
        if (out !== null) yield encoder.encode(out);
      }
    }
    current = null;
    last = turn;
    addUsage(loop.usage, turn.usage);
    // A turn that broke off already carried its error event (the proxy's relay adds one).
    if (turn.failed || !turn.sawStop) {
      broken = true;
      break;
    }
    const decision = loop.decide(turn.content, turn.stopReason);
    if (decision.kind !== 'continue') {
      stopped = decision.kind === 'stop' ? decision.reason : undefined;
      break;
    }
    yield encoder.encode(PING);
    let out: ClaudeOutcome;
    try {
      if (!(await loop.execute(turn.content, decision.calls)) || loop.signal.aborted) return;
      out = await loop.step();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      yield errorEvent('api_error', error.message);
      broken = true;
      break;
    }
    if (out.kind === 'stream') current = out.chunks;
    else if (out.kind === 'insufficient') stopped = 'payment_required';
    else {
      yield out.kind === 'failed' ? errorEvent(out.failure.anthropicType, out.failure.message) : errorEvent('api_error', 'Claude answered a streamed request with JSON.');
      broken = true;
    }
  }
  if (!broken && last) {
    yield encoder.encode(frameOf('message_delta', { ...last.delta, type: 'message_delta', delta: { ...last.delta.delta, stop_reason: last.stopReason }, usage: loop.usage }));
    yield encoder.encode(frameOf('message_stop', { type: 'message_stop' }));
  }
  yield commentLine(`${STREAM_COST_COMMENT}=${loop.cost}`);
  yield commentLine(`aipaygent-memory-tool-steps=${loop.steps}`);
  if (stopped) yield commentLine(`aipaygent-memory-tool-stopped=${stopped}`);
}

/** The loop for `stream: true`: the first turn is started here (so a 402 or an upstream error is a plain HTTP error). */
export async function streamToolLoop(loop: ToolLoop, extra: Record<string, string>): Promise<ClaudeOutcome> {
  const first = await loop.step();
  if (first.kind !== 'stream') return first.kind === 'message' ? { ...first, headers: { ...extra, ...loop.headers(undefined) } } : first;
  return { ...first, headers: extra, chunks: relayTurns(loop, first.chunks) };
}
