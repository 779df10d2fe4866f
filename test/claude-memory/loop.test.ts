// HTTP: the server-side memory tool loop (JSON and streamed), billed per step, with its step limit.
import Anthropic from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { account, claudeSpend, ledger, OPERATOR_KEY, settled, sseEvents, useFakeAnthropic } from '../support/claude.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';
import { MEMORY_TOOL, MODEL, script, text, toolResults, toolUse, turn, TURN_COST } from './support.js';

const fake = useFakeAnthropic();

const MAX_STEPS = 3;
const options = () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 2000, memory: { maxSteps: MAX_STEPS } } });
const USER = 'user_456';
const request = (extra: Record<string, unknown> = {}) => ({
  model: MODEL, max_tokens: 500, tools: [MEMORY_TOOL], memory: { user_id: USER },
  messages: [{ role: 'user', content: 'How do I optimize database queries?' }], ...extra,
});

/** A memory read in process (a metered retrieve would add a debit to the ledgers checked here). */
async function retrieve(m: Mounted, accountId: string, k: string): Promise<unknown> {
  const found = await m.ai.api.memory.get(accountId, USER, k, Date.now(), false);
  return found && JSON.parse(found.json);
}

/** view the directory, create a file, then answer: the usual three-step conversation. */
function threeSteps(): void {
  script(fake, [
    () => turn([text('Let me check my memory.'), toolUse({ command: 'view', path: '/memories' })]),
    () => turn([toolUse({ command: 'create', path: '/memories/insights.md', file_text: '- asked about query optimisation' })]),
    () => turn([text('Add indexes on the columns you filter by.')]),
  ]);
}

describeMounts('Claude memory tool loop', options, (m) => {
  it('runs the memory tool calls until the model stops, and answers one Message billed per step', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    threeSteps();
    const r = await call(`${m().url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      type: 'message', role: 'assistant', stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'Let me check my memory.' }, { type: 'text', text: 'Add indexes on the columns you filter by.' }],
      usage: { input_tokens: 75, output_tokens: 21, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(r.headers.get('x-memory-tool-steps')).toBe('3');
    expect(r.headers.get('x-memory-tool-stopped')).toBeNull();
    expect(r.headers.get('x-cost-micro-usd')).toBe(String(3 * TURN_COST));
    expect(r.headers.get('x-credits-balance-micro-usd')).toBe(String(1_000_000 - 3 * TURN_COST));

    // Upstream saw the tool declared as is, no `memory` field, and the results of each call fed back.
    expect(fake.requests).toHaveLength(3);
    for (const q of fake.requests) {
      expect(q.body.tools).toEqual([MEMORY_TOOL]);
      expect(q.body.memory).toBeUndefined();
    }
    const [, second, third] = fake.requests;
    expect(second!.body.messages).toHaveLength(3);
    expect(second!.body.messages[1]).toMatchObject({ role: 'assistant', content: [{ type: 'text' }, { type: 'tool_use', name: 'memory' }] });
    expect(toolResults(second!)).toEqual([{
      type: 'tool_result', tool_use_id: second!.body.messages[1].content[1].id,
      content: "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items and node_modules:\n0B\t/memories",
    }]);
    expect(toolResults(third!)[0]!.content).toBe('File created successfully at: /memories/insights.md');
    expect(await retrieve(m(), id, 'insights.md')).toBe('- asked about query optimisation');

    // Every step has its hold and its settle, each settle naming its own upstream message.
    const { spent, entries } = await claudeSpend(m(), key);
    expect(spent).toBe(3 * TURN_COST);
    expect(entries.map((e) => e.kind)).toEqual(['settle', 'hold', 'settle', 'hold', 'settle', 'hold']);
    const messageIds = entries.filter((e) => e.kind === 'settle').map((e) => /message=(\S+)/.exec(e.memo)![1]);
    expect(new Set(messageIds).size).toBe(3);
  });

  it('streams: live text of every turn as one Message, memory calls hidden, usage and cost summed (official SDK)', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    threeSteps();
    const res = await fetch(`${m().url}/claude/message`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(request({ stream: true })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(await res.text());
    const names = events.map(([e]) => e);
    expect(names.filter((n) => n === 'message_start')).toHaveLength(1);
    expect(names.filter((n) => n === 'message_stop')).toHaveLength(1);
    expect(names.filter((n) => n === 'message_delta')).toHaveLength(1);
    const starts = events.filter(([e]) => e === 'content_block_start').map(([, d]) => [d.index, d.content_block.type]);
    expect(starts).toEqual([[0, 'text'], [1, 'text']]);
    expect(events.some(([, d]) => d?.delta?.type === 'input_json_delta')).toBe(false);
    const delta = events.find(([e]) => e === 'message_delta')![1];
    expect(delta).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 75, output_tokens: 21 } });
    expect(events.filter(([e]) => e === 'comment').map(([, c]) => c)).toEqual([`aipaygent-cost-micro-usd=${3 * TURN_COST}`, 'aipaygent-memory-tool-steps=3']);
    expect(await retrieve(m(), id, 'insights.md')).toBe('- asked about query optimisation');
    expect((await settled(m(), key)).spent).toBe(3 * TURN_COST);

    // The official SDK assembles the same stream into the final Message.
    threeSteps();
    const sdk = new Anthropic({ baseURL: m().url, apiKey: key, maxRetries: 0 });
    await m().ai.api.memory.delete(id, USER, 'insights.md', Date.now());
    const body = request() as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const final = await sdk.messages.stream(body).finalMessage();
    expect(final.content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual(['Let me check my memory.', 'Add indexes on the columns you filter by.']);
    expect(final.usage).toMatchObject({ input_tokens: 75, output_tokens: 21 });
    expect(final.stop_reason).toBe('end_turn');
  });

  it(`stops at the step limit (${MAX_STEPS}): the last turn's memory calls are not run, and the answer says why`, async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    script(fake, [
      () => turn([toolUse({ command: 'create', path: '/memories/1.md', file_text: 'one' })]),
      () => turn([toolUse({ command: 'create', path: '/memories/2.md', file_text: 'two' })]),
      () => turn([text('Still working.'), toolUse({ command: 'create', path: '/memories/3.md', file_text: 'three' })]),
    ]);
    const r = await call(`${m().url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-tool-steps')).toBe(String(MAX_STEPS));
    expect(r.headers.get('x-memory-tool-stopped')).toBe('step_limit');
    expect(r.body).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'text', text: 'Still working.' }] });
    expect(fake.requests).toHaveLength(MAX_STEPS);
    expect([await retrieve(m(), id, '1.md'), await retrieve(m(), id, '2.md'), await retrieve(m(), id, '3.md')]).toEqual(['one', 'two', null]);
    expect((await claudeSpend(m(), key)).spent).toBe(MAX_STEPS * TURN_COST);

    // Streamed, the same limit ends with a comment.
    script(fake, [
      () => turn([toolUse({ command: 'view', path: '/memories' })]),
      () => turn([toolUse({ command: 'view', path: '/memories' })]),
      () => turn([toolUse({ command: 'view', path: '/memories' })]),
    ]);
    const res = await fetch(`${m().url}/claude/message`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(request({ stream: true })) });
    const events = sseEvents(await res.text());
    expect(events.filter(([e]) => e === 'comment').map(([, c]) => c)).toEqual([`aipaygent-cost-micro-usd=${MAX_STEPS * TURN_COST}`, `aipaygent-memory-tool-steps=${MAX_STEPS}`, 'aipaygent-memory-tool-stopped=step_limit']);
    expect(events.find(([e]) => e === 'message_delta')![1].delta.stop_reason).toBe('tool_use');
  });

  it("returns a turn that also calls the client's own tool, without running its memory calls", async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    const weather = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } };
    script(fake, [() => turn([toolUse({ command: 'create', path: '/memories/x.md', file_text: 'x' }), toolUse({ city: 'Paris' }, 'get_weather')])]);
    const r = await call(`${m().url}/claude/message`, { key, body: request({ tools: [MEMORY_TOOL, weather] }) });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-memory-tool-stopped')).toBe('client_tool');
    expect(r.body.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Paris' } }]);
    expect(await retrieve(m(), id, 'x.md')).toBeNull();
  });

  it('injects context and runs the tool in one request; without memory.user_id the tool is the client\'s (passed through)', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    await call(`${m().url}/memory/store`, { key, body: { user_id: USER, key: 'profile', data: { name: 'Ada' } } });
    script(fake, [() => turn([text('Hi Ada.')])]);
    const r = await call(`${m().url}/claude/message`, { key, body: request({ memory: { user_id: USER, keys: ['profile'] } }) });
    expect(r.headers.get('x-memory-keys')).toBe('profile');
    expect(fake.requests[0]!.body.system[0].text).toContain('<memory key="profile">{"name":"Ada"}</memory>');
    script(fake, [() => turn([toolUse({ command: 'view', path: '/memories' })])]);
    const passed = await call(`${m().url}/claude/message`, { key, body: { ...request(), memory: undefined } });
    expect(passed.body.content[0]).toMatchObject({ type: 'tool_use', name: 'memory' });
    expect(passed.headers.get('x-memory-tool-steps')).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('a memory tool error goes back to the model as an is_error tool_result, and the loop continues', async () => {
    const { key, account: id } = await account(m(), 1_000_000);
    script(fake, [
      () => turn([toolUse({ command: 'view', path: '/memories/../etc/passwd' }), toolUse({ command: 'str_replace', path: '/memories/none.md', old_str: 'a', new_str: 'b' })]),
      () => turn([text('Nothing stored yet.')]),
    ]);
    const r = await call(`${m().url}/claude/message`, { key, body: request() });
    expect(r.status).toBe(200);
    expect(toolResults(fake.requests[1]!).map((t) => [t.is_error, t.content])).toEqual([
      [true, 'The path /memories/../etc/passwd must not contain "." or ".." segments'],
      [true, 'The path /memories/none.md does not exist. Please provide a valid path.'],
    ]);
    expect((await ledger(m(), key)).filter((e) => e.kind === 'settle')).toHaveLength(2);
  });
});
