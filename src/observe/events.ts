// The event port: the core reports what happened (a call served, money moved, a store call, Claude usage); metrics and spans subscribe.
import type { LedgerKind } from '../storage/contract.js';

/** One answered call of ours (`route` is the route's path pattern, never the raw path). Streams: at their headers. */
export interface RequestEvent { type: 'request'; method: string; route: string; status: number; durationMs: number; endedAt: number }
/** One store operation and how long it took; `ok: false` when it failed or timed out (a 503). */
export interface StoreEvent { type: 'store'; op: string; durationMs: number; ok: boolean }
/**
 * Money and quota as the store committed them: a free call taken or given back, or a ledger entry
 * (debit, settle, refund, grant, purchase; `amount` signed micro-USD as in the ledger).
 */
export type MoneyEvent =
  | { type: 'money'; kind: 'free_call' | 'free_call_refund' }
  | { type: 'money'; kind: LedgerKind; amount: number };
/** One upstream Claude call, with the usage it was billed for. */
export interface ClaudeEvent {
  type: 'claude'; model: string; status: number; stream: boolean; durationMs: number; endedAt: number; requestId: string | null;
  maxTokens: number; costMicroUsd: number; finishReason: string | null;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite5m: number; cacheWrite1h: number };
}
/** A streamed answer began (+1) or ended (-1). */
export interface StreamEvent { type: 'stream'; delta: 1 | -1 }

/**
 * Background embedding of memories: texts embedded and stored, an `embed` call that failed and will be
 * retried, texts given up (after every attempt: embedded when a search next meets them), or dropped (queue full).
 */
export interface EmbeddingEvent { type: 'embedding'; outcome: 'embedded' | 'retried' | 'failed' | 'dropped'; count: number }

/** One webhook delivery attempt: delivered, to be retried, or failed (no tries left). */
export interface WebhookEvent { type: 'webhook'; event: string; outcome: 'delivered' | 'retried' | 'failed' }

export type AipaygentEvent = RequestEvent | StoreEvent | MoneyEvent | ClaudeEvent | StreamEvent | EmbeddingEvent | WebhookEvent;
export type EventListener = (event: AipaygentEvent) => void;

/**
 * Subscribers are fixed at startup. `active` is false without any, so that a hot path pays one
 * property read and builds no event object when nobody listens.
 */
export class Events {
  private readonly listeners: EventListener[] = [];
  active = false;

  subscribe(listener: EventListener): void {
    this.listeners.push(listener);
    this.active = true;
  }

  /** A listener's fault never reaches the call that emitted: observability must not break service. */
  emit(event: AipaygentEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // dropped: see above
      }
    }
  }
}
