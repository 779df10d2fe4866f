// Many conversations of one user edit one memory file at once, through two servers sharing a store: no edit is lost.
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AipaygentOptions } from '../../src/config.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { OPERATOR_KEY } from '../support/claude.js';
import { dropPrefix } from '../support/cleanup.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';
import { MEMORY_TOOL, MODEL, reply, text, toolResults, toolUse, turn } from './support.js';

const prefix = `apgmt_${randomUUID().slice(0, 8)}`;
const redisUrl = await redisUrlOrSkip();
const postgresUrl = await postgresUrlOrSkip();
const sqliteFile = `${mkdtempSync(`${tmpdir()}/apg-mt-`)}/store.db`;
const shared = new KeyvStore(new Keyv({ throwOnErrors: true }));
const BACKENDS: Array<{ name: string; options(): AipaygentOptions; cleanup(): Promise<void> } | null> = [
  { name: 'in-memory (one store object, two servers)', options: () => ({ store: shared }), cleanup: async () => {} },
  redisUrl ? { name: 'redis', options: () => ({ store: redisUrl, storePrefix: `${prefix}:` }), cleanup: () => dropPrefix(redisUrl, `${prefix}:`) } : null,
  postgresUrl ? { name: 'postgres', options: () => ({ store: postgresUrl, storePrefix: prefix }), cleanup: () => dropPrefix(postgresUrl, prefix) } : null,
  { name: 'sqlite (one file, two connections)', options: () => ({ store: `sqlite://${sqliteFile}`, storePrefix: prefix }), cleanup: async () => {} },
];

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  // A stateless model: the user's message names the edit; once the tool result is back, it answers.
  fake.setDefault((req, res) => {
    const last = (req.body.messages as Array<{ content: unknown }>).at(-1)!;
    if (toolResults(req).length) return reply(req, res, turn([text('Done.')]));
    const [kind, n] = String(last.content).split(' ');
    const input = kind === 'slot'
      ? { command: 'str_replace', path: '/memories/shared.md', old_str: `slot-${n}: todo`, new_str: `slot-${n}: done by conversation ${n}` }
      : { command: 'insert', path: '/memories/shared.md', insert_line: 0, insert_text: `note-${n}` };
    return reply(req, res, turn([toolUse(input)]));
  });
});
afterAll(async () => {
  await fake.close();
});

const N = 40;
const USER = 'user_shared';

for (const backend of BACKENDS.filter((b) => b !== null)) {
  describe(`memory tool edits of one file on ${backend.name}`, () => {
    const servers: Mounted[] = [];
    let key = '';
    let accountId = '';
    beforeAll(async () => {
      for (const kind of ['express5', 'core'] as const) {
        const claude = { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 20_000 };
        servers.push(await startMount(kind, { parsed: kind !== 'core', prefix: '', options: { freeCallsPerDay: 1_000_000, storeTimeoutMs: 10_000, claude, ...backend.options() } }));
      }
      const r = await call(`${servers[0]!.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
      [key, accountId] = [r.body.api_key, r.body.account_id];
    });
    afterAll(async () => {
      for (const s of servers) await s.close();
      await backend.cleanup();
    });

    it(`${N} conversations at once (str_replace and insert, streamed or not) lose no edit`, async () => {
      const slots = Array.from({ length: N / 2 }, (_, i) => `slot-${2 * i}: todo`).join('\n');
      await servers[0]!.ai.api.memory.put(accountId, { userId: USER, key: 'shared.md', data: slots }, Date.now());
      const results = await Promise.all(Array.from({ length: N }, (_, i) =>
        call(`${servers[Math.floor(i / 2) % 2]!.url}/claude/message`, {
          key,
          body: { model: MODEL, max_tokens: 200, stream: i % 4 === 3, tools: [MEMORY_TOOL], memory: { user_id: USER }, messages: [{ role: 'user', content: `${i % 2 ? 'note' : 'slot'} ${i}` }] },
        })));
      expect(results.filter((r) => r.status !== 200).map((r) => r.text)).toEqual([]);
      const fed = fake.requests.filter((q) => toolResults(q).length).flatMap(toolResults);
      expect(fed.filter((t) => t.is_error)).toEqual([]);
      const found = await servers[1]!.ai.api.memory.get(accountId, USER, 'shared.md', Date.now(), false);
      const lines = (JSON.parse(found!.json) as string).split('\n');
      for (let i = 0; i < N; i++) expect(lines, `edit of conversation ${i}`).toContain(i % 2 ? `note-${i}` : `slot-${i}: done by conversation ${i}`);
      expect(lines).toHaveLength(N);
    }, 60_000);
  });
}
