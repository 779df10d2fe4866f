// One Claude call: reserve the worst case, call upstream, pass the answer on, settle the real usage.
import { StoreUnavailableError } from '../errors.js';
import type { Events } from '../observe/events.js';
import type { UsageRecorder } from '../meter/usage.js';
import type { Logger } from '../observe/logger.js';
import { createRedactor, type Redactor } from '../redact.js';
import type { Store } from '../storage/contract.js';
import type { VoidQueue } from '../storage/void-queue.js';
import { checkMessage, streamStart } from './answer.js';
import { ClaudeBilling } from './billing.js';
import { estimatePromptTokens, maxWebSearches } from './estimate.js';
import { describeFailure, type ClientFailure } from './failure.js';
import type { ClaudeConfig, ModelChoice } from './options.js';
import { applyUsage, costOf, emptyUsage, worstCaseCost, type TokenUsage } from './prices.js';
import { chunkSource, commentLine, readAll, relay, StreamUsage, type RelayOutcome } from './sse.js';
import { claudeEvent } from './observe.js';
import type { ClientHeaders, Upstream, UpstreamFailure } from './upstream.js';
import type { MoneyRules } from '../meter/money-rules.js';
import type { AppliedCap } from '../meter/spend-caps.js';

export interface ClaudeCall {
  accountId: string;
  /** The validated request body, as the client sent it. */
  body: Record<string, unknown>;
  choice: Extract<ModelChoice, { ok: true }>;
  /** True when one of today's free calls pays for this call: nothing is reserved or charged. */
  free: boolean;
  /** Fires when our client goes away: the upstream request is aborted with it. */
  signal: AbortSignal;
  /** The client's `anthropic-beta` header (checked against `claude.betas`), passed on. */
  beta: string | undefined;
  /** The client's `anthropic-version` header, passed on (else the SDK's). */
  version?: string | undefined;
  now: number;
  /** The caller's key: its spend caps apply to the hold. */
  keyId?: string | undefined;
}

/** What the route renders. `cost` is what the caller was charged, in micro-USD; `headers` are added to the answer. */
export type ClaudeOutcome =
  | { kind: 'message'; status: number; text: string; contentType: string; requestId: string | null; cost: number; balance: number | null; headers?: Record<string, string> }
  | { kind: 'stream'; status: number; chunks: AsyncIterable<Uint8Array>; contentType: string; requestId: string | null; balance: number | null; headers?: Record<string, string> }
  | { kind: 'failed'; failure: ClientFailure; cost: number }
  | { kind: 'insufficient'; required: number; balance: number; cap?: AppliedCap };

const STORE_FAILURE: ClientFailure = {
  code: 'store_unavailable', anthropicStatus: 503, anthropicType: 'api_error', headers: {},
  message: new StoreUnavailableError().message,
};

/** Settles the call's hold at most once: the amount charged, null when the store failed. `status`: what the call answered (for the event). */
type Settle = (usage: TokenUsage, requestId: string | null, messageId: string | null, status?: number) => Promise<number | null>;

/** Name of the SSE comment that ends a billed stream with its cost (SSE clients ignore comments). */
export const STREAM_COST_COMMENT = 'aipaygent-cost-micro-usd';

export class ClaudeProxy {
  constructor(
    private readonly config: ClaudeConfig,
    private readonly upstream: Pick<Upstream, 'send' | 'close'>,
    private readonly billing: ClaudeBilling,
    private readonly logger: Logger,
    private readonly redactor: Redactor = createRedactor([]),
    private readonly events?: Events,
  ) {}

  /** Ends the upstream's kept-alive connections (createAipaygent's close). */
  close(): void {
    this.upstream.close();
  }

  async call(c: ClaudeCall): Promise<ClaudeOutcome> {
    const { config } = this;
    const { price, model } = c.choice;
    const requested = typeof c.body.max_tokens === 'number' ? c.body.max_tokens : config.defaultMaxTokens;
    const maxTokens = c.free ? Math.min(requested, config.freeMaxTokens) : requested;
    const promptEstimate = estimatePromptTokens(c.body);
    const upstreamBody = { ...c.body, model, max_tokens: maxTokens };

    let holdId: string | undefined;
    let holdCaps: string[] | undefined;
    let balance: number | null = null;
    if (!c.free) {
      const worst = worstCaseCost(price, promptEstimate, maxTokens, maxWebSearches(c.body), config.markupBps);
      const r = await this.billing.reserve(c.accountId, worst, c.now, `claude ${model} hold`, c.keyId);
      if (!r.ok) return { kind: 'insufficient', required: worst + 1, balance: r.balance, ...(r.cap && { cap: r.cap }) };
      holdId = r.holdId;
      holdCaps = r.caps;
      balance = r.balance;
    }

    // Settles at most once, whatever path the call takes; returns the amount charged, null when the store failed.
    let settled = false;
    const started = Date.now();
    const settle: Settle = async (usage, requestId, messageId, status = 200) => {
      if (settled) return 0;
      settled = true;
      let charged: number | null = 0;
      if (holdId !== undefined) {
        const cost = costOf(price, usage, config.markupBps);
        const memo = `claude ${model} request=${requestId ?? '-'} message=${messageId ?? '-'} ` +
          `in=${usage.input} out=${usage.output} cache_write=${usage.cacheWrite5m + usage.cacheWrite1h} cache_read=${usage.cacheRead}` +
          (usage.webSearches ? ` web_search=${usage.webSearches}` : '');
        const r = await this.billing.settle(c.accountId, holdId, cost, memo, { model, usage }, holdCaps);
        if (r) balance = r.balance;
        charged = r === null ? null : r.charged;
      }
      if (this.events?.active) this.events.emit(claudeEvent(model, c.body.stream === true, status, started, maxTokens, usage, charged ?? 0, messageId ?? requestId));
      return charged;
    };
    try {
      return await this.exchange(c, upstreamBody, promptEstimate, settle, () => balance);
    } catch (error) {
      // Whatever failed unexpectedly, the hold is given back now rather than when it expires.
      await settle(emptyUsage(), null, null, 500).catch(() => null);
      throw error;
    }
  }

  /**
   * A free call passed upstream as it came, its answer back as it came (count_tokens): nothing is
   * reserved or settled. Upstream errors are told as on /v1/messages.
   */
  async forward(path: string, body: Record<string, unknown>, signal: AbortSignal, headers: ClientHeaders): Promise<Extract<ClaudeOutcome, { kind: 'message' | 'failed' }>> {
    const sent = await this.upstream.send(body, signal, headers, path);
    if (!sent.ok) {
      this.report(sent.failure);
      return { kind: 'failed', failure: describeFailure(sent.failure), cost: 0 };
    }
    const read = sent.text !== null ? { ok: true as const, text: sent.text } : await readAll(sent.body!, this.config.timeoutMs);
    if (!read.ok) return { kind: 'failed', failure: describeFailure(read.stalled ? { kind: 'timeout' } : { kind: 'unreachable' }), cost: 0 };
    return { kind: 'message', status: sent.status, text: read.text, contentType: sent.contentType, requestId: sent.requestId, cost: 0, balance: null, headers: sent.headers };
  }

  /** Sends the call upstream and turns the answer into an outcome; every path settles the hold (or hands that to the stream). */
  private async exchange(c: ClaudeCall, upstreamBody: Record<string, unknown>, promptEstimate: number, settle: Settle, balanceOf: () => number | null): Promise<ClaudeOutcome> {
    const { config } = this;
    // When the upstream took the prompt but we never saw its usage, the prompt estimate is charged.
    const promptOnly = (): TokenUsage => ({ ...emptyUsage(), input: promptEstimate });

    const sent = await this.upstream.send(upstreamBody, c.signal, { beta: c.beta, version: c.version });
    if (!sent.ok) {
      this.report(sent.failure);
      // Timed out or cancelled: the upstream may have done the work, so the prompt is charged.
      // A status error or no connection: nothing was produced, nothing is charged.
      const tookPrompt = sent.failure.kind === 'aborted' || sent.failure.kind === 'timeout';
      const cost = await settle(tookPrompt ? promptOnly() : emptyUsage(), null, null, sent.failure.kind === 'status' ? sent.failure.status : 502);
      return { kind: 'failed', failure: describeFailure(sent.failure), cost: cost ?? 0 };
    }

    if (c.body.stream === true && sent.contentType.startsWith('text/event-stream') && sent.body) {
      const tap = new StreamUsage();
      const reader = chunkSource(sent.body);
      const start = await streamStart(reader, tap, config.timeoutMs);
      if (!start.ok) {
        if (start.why === 'ended' || start.why === 'malformed') return this.malformed(settle, sent.requestId, `an event stream that ${start.why === 'ended' ? 'ended before its first event' : `began with ${tap.malformed}`}`);
        // Stalled or broken before its first event: as a JSON answer that stalls or breaks (the prompt is charged).
        const cost = (await settle(promptOnly(), sent.requestId, null)) ?? 0;
        const failure: UpstreamFailure = start.why === 'stalled' ? { kind: 'timeout' } : c.signal.aborted ? { kind: 'aborted' } : { kind: 'unreachable' };
        return { kind: 'failed', failure: describeFailure(failure), cost };
      }
      const finish = async (outcome: RelayOutcome): Promise<Uint8Array | null> => {
        const usage = tap.sawStart ? tap.billable() : promptOnly();
        const charged = await settle(usage, sent.requestId, tap.messageId);
        // A failed settle is logged by billing; the stream is already delivered, so it only loses its cost line.
        return outcome === 'cancelled' || charged === null ? null : commentLine(`${STREAM_COST_COMMENT}=${charged}`);
      };
      return {
        kind: 'stream', status: sent.status, contentType: sent.contentType, requestId: sent.requestId, balance: balanceOf(), headers: sent.headers,
        chunks: relay(reader, tap, config.timeoutMs, finish, start.head, this.redactor.active ? this.redactor.text : undefined),
      };
    }

    const read = sent.text !== null ? { ok: true as const, text: sent.text } : await readAll(sent.body!, config.timeoutMs);
    if (!read.ok) {
      const cost = (await settle(promptOnly(), sent.requestId, null)) ?? 0;
      const failure: UpstreamFailure = read.stalled ? { kind: 'timeout' } : c.signal.aborted ? { kind: 'aborted' } : { kind: 'unreachable' };
      return { kind: 'failed', failure: describeFailure(failure), cost };
    }
    const message = checkMessage(read.text);
    if (!message.ok) return this.malformed(settle, sent.requestId, message.why);
    const cost = await settle(applyUsage(emptyUsage(), message.usage), sent.requestId, message.id);
    // Fail closed: an answer that could not be paid for is not handed out (the hold returns the money when it expires).
    if (cost === null) return { kind: 'failed', failure: STORE_FAILURE, cost: 0 };
    return { kind: 'message', status: sent.status, text: read.text, contentType: sent.contentType, requestId: sent.requestId, cost, balance: balanceOf(), headers: sent.headers };
  }

  /**
   * A 2xx the client cannot use (see answer.ts) is a 502 and costs the client nothing: the hold is
   * given back at once. It is the upstream's (or the operator's baseURL's) fault, so it is logged.
   */
  private async malformed(settle: Settle, requestId: string | null, why: string): Promise<ClaudeOutcome> {
    this.logger.error(`aipaygent: Claude answered 2xx with ${why}; answered 502, nothing charged`, { requestId });
    const cost = (await settle(emptyUsage(), requestId, null, 502)) ?? 0;
    return { kind: 'failed', failure: describeFailure({ kind: 'malformed' }), cost };
  }

  /** Failures that are the operator's to fix are logged; the client gets a masked message. */
  private report(f: UpstreamFailure): void {
    if (f.kind === 'status' && (f.status === 401 || f.status === 402 || f.status === 403)) {
      this.logger.error(`aipaygent: Anthropic refused this server's API key or account (HTTP ${f.status})`, { type: f.type, message: f.message, requestId: f.requestId });
    }
  }
}

/** The proxy with its upstream client (made once the SDK is loaded, see src/features.ts) and billing, as createAipaygent() wires it. */
export function createClaudeProxy(
  config: ClaudeConfig, store: Store, voids: VoidQueue, logger: Logger, redactor: Redactor, upstream: Pick<Upstream, 'send' | 'close'>, events?: Events,
  usage?: UsageRecorder, rules?: MoneyRules,
): ClaudeProxy {
  // A hold outlives the longest call (every attempt timing out, then a long stream); a crash frees it after that.
  const holdTtlMs = Math.max(2 * 3_600_000, 2 * config.timeoutMs * (config.maxRetries + 1));
  return new ClaudeProxy(config, upstream, new ClaudeBilling(store, voids, logger, holdTtlMs, usage, rules), logger, redactor, events);
}
