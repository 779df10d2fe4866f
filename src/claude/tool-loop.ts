// The server-side memory tool loop: call Claude, run its memory tool calls, feed the results back, until it stops.
//
// Every upstream call is one Claude call of the existing proxy (its own hold, settle and ledger
// entries). The first is paid the way the request was metered; each later one takes one of today's
// free calls if any is left, else is billed by tokens. The client gets one Message: the content of
// every turn without the memory tool_use blocks, the last turn's stop_reason, the usage summed.
import { StoreUnavailableError } from '../errors.js';
import type { Meter } from '../meter/meter.js';
import { describeFailure, type ClientFailure } from './failure.js';
import type { Owner } from './memory-files.js';
import type { MemoryTool } from './memory-tool.js';
import type { ClaudeCall, ClaudeOutcome, ClaudeProxy } from './proxy.js';

/** Why the loop returned while the model still asked for tools. */
export type StopReason = 'step_limit' | 'payment_required' | 'client_tool';

type Block = Record<string, unknown>;
export type TurnDecision = { kind: 'final' } | { kind: 'stop'; reason: StopReason } | { kind: 'continue'; calls: Block[] };

export const STORE_FAILURE: ClientFailure = {
  code: 'store_unavailable', anthropicStatus: 503, anthropicType: 'api_error', headers: {}, message: new StoreUnavailableError().message,
};

/** Adds usage objects field by field (numbers summed, nested objects too, other values from the latest). */
export function addUsage(into: Record<string, unknown>, usage: unknown): Record<string, unknown> {
  if (usage === null || typeof usage !== 'object') return into;
  for (const [k, v] of Object.entries(usage as Record<string, unknown>)) {
    const had = into[k];
    if (typeof v === 'number' && (typeof had === 'number' || had === undefined || had === null)) into[k] = ((had as number | undefined) ?? 0) + v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) into[k] = addUsage(had !== null && typeof had === 'object' ? (had as Record<string, unknown>) : {}, v);
    else if (v !== null || had === undefined) into[k] = v;
  }
  return into;
}

export interface LoopDeps {
  proxy: ClaudeProxy;
  meter: Meter;
  tool: MemoryTool;
  maxSteps: number;
}

/** The state of one request's loop, shared by the JSON and the streamed flavours. */
export class ToolLoop {
  steps = 0;
  cost = 0;
  balance: number | null = null;
  readonly usage: Record<string, unknown> = {};
  private readonly messages: unknown[];

  constructor(
    private readonly deps: LoopDeps,
    /** The first call, its body already without `memory` and with the injected context. */
    private readonly call: ClaudeCall,
    private readonly owner: Owner,
    readonly toolName: string,
  ) {
    this.messages = [...(call.body.messages as unknown[])];
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  isMemoryCall(b: unknown): boolean {
    const block = b as Block | null;
    return !!block && block.type === 'tool_use' && block.name === this.toolName;
  }

  /** Starts the next upstream call (the previous turn and its results are already in the messages). */
  async step(): Promise<ClaudeOutcome> {
    let free = this.call.free;
    if (this.steps > 0) {
      const charged = await this.deps.meter.charge(this.call.accountId, 0, Date.now(), `claude memory tool step ${this.steps + 1}`);
      free = charged.ok && charged.charge.free;
    }
    const out = await this.deps.proxy.call({ ...this.call, body: { ...this.call.body, messages: this.messages }, free, now: Date.now() });
    // Steps count upstream calls: one refused for lack of credit made none.
    if (out.kind !== 'insufficient') this.steps++;
    if (out.kind === 'message' || out.kind === 'failed') this.cost += out.cost;
    if ((out.kind === 'message' || out.kind === 'stream') && out.balance !== null) this.balance = out.balance;
    return out;
  }

  /** What to do after a turn that ended with `stopReason`. */
  decide(content: unknown[], stopReason: unknown): TurnDecision {
    if (stopReason !== 'tool_use') return { kind: 'final' };
    const calls = content.filter((b) => this.isMemoryCall(b)) as Block[];
    if (calls.length === 0) return { kind: 'final' };
    // The client's own tools must be answered by the client: their turn goes back, memory calls unrun.
    if (content.some((b) => (b as Block | null)?.type === 'tool_use' && !this.isMemoryCall(b))) return { kind: 'stop', reason: 'client_tool' };
    if (this.steps >= this.deps.maxSteps) return { kind: 'stop', reason: 'step_limit' };
    return { kind: 'continue', calls };
  }

  /**
   * Runs the calls in order and appends the turn and its tool_result blocks to the conversation.
   * Returns false when the client went away (the calls not yet run are skipped: each one is atomic,
   * so memory is consistent). Store faults throw.
   */
  async execute(content: unknown[], calls: Block[]): Promise<boolean> {
    const results: Block[] = [];
    for (const c of calls) {
      if (this.signal.aborted) return false;
      const r = await this.deps.tool.run(this.owner, c.input, Date.now());
      results.push({ type: 'tool_result', tool_use_id: c.id, content: r.content, ...(r.isError && { is_error: true }) });
    }
    this.messages.push({ role: 'assistant', content }, { role: 'user', content: results });
    return true;
  }

  /** Headers of the answer: steps taken, and why the loop stopped early. */
  headers(stopped: StopReason | undefined): Record<string, string> {
    return { 'x-memory-tool-steps': String(this.steps), ...(stopped && { 'x-memory-tool-stopped': stopped }) };
  }
}

/** A failed loop: everything so far is charged; the answer still says what was injected and how many steps ran. */
function failed(loop: ToolLoop, failure: ClientFailure, extra: Record<string, string>): ClaudeOutcome {
  return { kind: 'failed', failure: { ...failure, headers: { ...extra, ...loop.headers(undefined), ...failure.headers } }, cost: loop.cost };
}

/** The loop for a JSON answer (`stream` not true). */
export async function runToolLoop(loop: ToolLoop, extra: Record<string, string>): Promise<ClaudeOutcome> {
  let first: Block | undefined;
  let last: Block | undefined;
  let requestId: string | null = null;
  let stopped: StopReason | undefined;
  const shown: unknown[] = [];
  try {
    for (;;) {
      if (loop.signal.aborted) return failed(loop, describeFailure({ kind: 'aborted' }), extra);
      const out = await loop.step();
      if (out.kind === 'insufficient') {
        if (!first) return out;
        stopped = 'payment_required';
        break;
      }
      if (out.kind === 'failed') return failed(loop, out.failure, extra);
      if (out.kind !== 'message') throw new Error('aipaygent: a JSON step of the memory tool loop answered a stream');
      const msg = JSON.parse(out.text) as Block;
      first ??= msg;
      last = msg;
      requestId = out.requestId;
      addUsage(loop.usage, msg.usage);
      const content = Array.isArray(msg.content) ? (msg.content as unknown[]) : [];
      shown.push(...content.filter((b) => !loop.isMemoryCall(b)));
      const next = loop.decide(content, msg.stop_reason);
      if (next.kind !== 'continue') {
        stopped = next.kind === 'stop' ? next.reason : undefined;
        break;
      }
      if (!(await loop.execute(content, next.calls))) return failed(loop, describeFailure({ kind: 'aborted' }), extra);
    }
  } catch (error) {
    if (error instanceof StoreUnavailableError) return failed(loop, STORE_FAILURE, extra);
    throw error;
  }
  const message = { ...first!, content: shown, stop_reason: last!.stop_reason, stop_sequence: last!.stop_sequence ?? null, usage: loop.usage };
  return {
    kind: 'message', status: 200, text: JSON.stringify(message), contentType: 'application/json', requestId,
    cost: loop.cost, balance: loop.balance, headers: { ...extra, ...loop.headers(stopped) },
  };
}
