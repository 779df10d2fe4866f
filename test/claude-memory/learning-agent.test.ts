// examples/learning-agent.ts end to end: the article's learning agent remembers across conversations with no retrieve or store call.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handleConversation, SYSTEM_PROMPT } from '../../examples/learning-agent.js';
import { account, ledger, OPERATOR_KEY } from '../support/claude.js';
import type { FakeRequest } from '../support/fake-anthropic.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { describeMounts } from '../support/mounts.js';
import { reply, text, toolResults, toolUse, turn } from './support.js';

const INSIGHTS = '/memories/insights.md';

/**
 * A stand-in for Claude with the memory tool, driven only by what the server feeds back: it views
 * its memory directory, reads the insights file when there is one, answers using it, and records
 * the new topic (create the first time, insert at the end later).
 */
function learningModel(req: FakeRequest): Record<string, unknown> {
  const messages = req.body.messages as Array<{ role: string; content: any }>;
  const question = String(messages[0]!.content);
  const results = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((b: { type: string }) => b.type === 'tool_result') : []));
  const calls = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((b: { type: string }) => b.type === 'tool_use') : []));
  const last = toolResults(req)[0]?.content ?? '';
  if (results.length === 0) return turn([toolUse({ command: 'view', path: '/memories' })]);
  const lastCall = calls.at(-1)!.input as { command: string; path?: string };
  if (lastCall.command === 'view' && lastCall.path === '/memories') {
    if (!last.includes(INSIGHTS)) return turn([text('First time we talk.'), toolUse({ command: 'create', path: INSIGHTS, file_text: `- topic: ${question.slice(0, 50)} (resolved)` })]);
    return turn([toolUse({ command: 'view', path: INSIGHTS })]);
  }
  if (lastCall.command === 'view') {
    const lines = last.split('\n').slice(1);
    const remembered = lines.map((l) => l.split('\t')[1]).join('; ');
    return turn([text(`I remember: ${remembered}.`), toolUse({ command: 'insert', path: INSIGHTS, insert_line: lines.length, insert_text: `- topic: ${question.slice(0, 50)} (resolved)` })]);
  }
  return turn([text(`Answer to "${question}".`)]);
}

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  fake.setDefault((req, res) => reply(req, res, learningModel(req)));
});
afterAll(async () => {
  await fake.close();
});

describeMounts('examples/learning-agent.ts', () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5000 } }), (m) => {
  it('remembers what the user asked in earlier conversations, with no manual retrieve or store', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    const agent = { baseUrl: m().url, apiKey: key };
    const userId = `user_${id.slice(-6)}`;
    fake.requests.length = 0;

    const first = await handleConversation(agent, userId, 'How do I optimize database queries?');
    expect(first).toBe('First time we talk.\nAnswer to "How do I optimize database queries?".');
    const second = await handleConversation(agent, userId, 'Should I add an index on created_at?');
    expect(second).toBe('I remember: - topic: How do I optimize database queries? (resolved).\nAnswer to "Should I add an index on created_at?".');

    const found = await m().ai.api.memory.get(id, userId, 'insights.md', Date.now(), false);
    expect(JSON.parse(found!.json)).toBe('- topic: How do I optimize database queries? (resolved)\n- topic: Should I add an index on created_at? (resolved)');
    // Upstream: 3 calls for the first conversation, 4 for the second, each with the example's system prompt and the tool.
    expect(fake.requests).toHaveLength(7);
    expect(fake.requests.every((q) => q.body.system === SYSTEM_PROMPT && q.body.tools[0].type === 'memory_20250818')).toBe(true);
    // The ledger holds Claude calls only: no metered memory call was made (each would be a debit here).
    const kinds = (await ledger(m(), key)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'hold')).toHaveLength(7);
    expect(kinds.filter((k) => k !== 'hold' && k !== 'settle')).toEqual(['grant']);
  });
});
