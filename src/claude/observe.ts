// The event a Claude call reports once it is billed (metrics count its tokens and cost, spans follow the GenAI conventions).
import type { ClaudeEvent } from '../observe/events.js';
import type { TokenUsage } from './prices.js';

export function claudeEvent(
  model: string, stream: boolean, status: number, startedAt: number, maxTokens: number, usage: TokenUsage, costMicroUsd: number, responseId: string | null,
): ClaudeEvent {
  const endedAt = Date.now();
  return {
    type: 'claude', model, status, stream, durationMs: endedAt - startedAt, endedAt, requestId: responseId, maxTokens, costMicroUsd, finishReason: null,
    tokens: { input: usage.input, output: usage.output, cacheRead: usage.cacheRead, cacheWrite5m: usage.cacheWrite5m, cacheWrite1h: usage.cacheWrite1h },
  };
}
