// Helpers of the memory-aware Claude suites: a fake model scripted to call the memory tool, in JSON or SSE.
import type { ServerResponse } from 'node:http';
import { frame, json, message, sse, type FakeAnthropic, type FakeRequest, type Usage } from '../support/fake-anthropic.js';

export const MEMORY_TOOL = { type: 'memory_20250818', name: 'memory' } as const;
export const MODEL = 'claude-3-5-sonnet-20241022';
/** What one fake turn costs on Sonnet 3.5 with the default usage (25 in, 7 out): 75 + 105 micro-USD. */
export const TURN_COST = 180;

type Block = Record<string, unknown>;

let ids = 0;
export const toolUse = (input: Record<string, unknown>, name = 'memory'): Block => ({ type: 'tool_use', id: `toolu_fake${++ids}`, name, input });
export const text = (t: string): Block => ({ type: 'text', text: t });

/** A Message with these content blocks; `tool_use` stop reason when one of them is a tool call. */
export function turn(content: Block[], usage?: Partial<Usage>): Record<string, unknown> {
  const msg = message({ usage, stopReason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn' });
  return { ...msg, content };
}

/**
 * The SSE frames of a Message with any content: text arrives in two deltas, tool input as two
 * input_json_delta pieces, as Anthropic streams them.
 */
export function framesOf(msg: Record<string, any>): string[] {
  const usage = msg.usage as Usage;
  const out = [frame('message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } })];
  (msg.content as Block[]).forEach((b, index) => {
    if (b.type === 'tool_use') {
      out.push(frame('content_block_start', { type: 'content_block_start', index, content_block: { ...b, input: {} } }));
      const s = JSON.stringify(b.input);
      const half = Math.floor(s.length / 2);
      for (const partial_json of [s.slice(0, half), s.slice(half)]) out.push(frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }));
    } else {
      out.push(frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      const t = String(b.text);
      const half = Math.floor(t.length / 2);
      for (const piece of [t.slice(0, half), t.slice(half)]) out.push(frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
    }
    out.push(frame('ping', { type: 'ping' }));
    out.push(frame('content_block_stop', { type: 'content_block_stop', index }));
  });
  out.push(frame('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage }));
  out.push(frame('message_stop', { type: 'message_stop' }));
  return out;
}

/** Answers with `msg` the way the request asked: SSE when `stream: true`, else JSON. */
export function reply(req: FakeRequest, res: ServerResponse, msg: Record<string, unknown>): void | Promise<void> {
  const m = { ...msg, model: req.body?.model ?? msg.model };
  if (req.body?.stream === true) return sse(res, framesOf(m));
  json(res, m);
}

/** The tool_result blocks of the last user message of a request (what the server fed back). */
export function toolResults(req: FakeRequest): Array<{ tool_use_id: string; content: string; is_error?: boolean }> {
  const last = (req.body.messages as Array<{ role: string; content: unknown }>).at(-1)!;
  return Array.isArray(last.content) ? (last.content as Array<{ type: string }>).filter((b) => b.type === 'tool_result') as never : [];
}

/**
 * Scripts the next upstream requests: each step gets the request (to read the tool results the
 * server fed back) and returns the Message to answer.
 */
export function script(fake: FakeAnthropic, steps: Array<(req: FakeRequest) => Record<string, unknown>>): void {
  for (const step of steps) fake.once((req, res) => reply(req, res, step(req)));
}

/** The text of a system prompt, whatever its form. */
export function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  return Array.isArray(system) ? system.map((b: { text?: string }) => b.text ?? '').join('\n---\n') : '';
}
