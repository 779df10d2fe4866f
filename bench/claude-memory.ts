// Measures what memory-aware Claude calls add to a plain proxied call (fake upstream answering at once):
// context injection of 100 memories, and a 3-step memory tool loop. Run: npx tsx bench/claude-memory.ts [store URL]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAipaygent } from '../src/create.js';
import { nodeRequest, writeNodeResponse } from '../src/http/node.js';
import { dropPrefix } from '../test/support/cleanup.js';
import { json, message, startFakeAnthropic } from '../test/support/fake-anthropic.js';

const STORE = process.argv[2] ?? 'memory';
const N = 300;
const ADMIN = 'bench-admin-token-0123456789';
const fake = await startFakeAnthropic();
const prefix = `apgbench${Date.now()}`;
const ai = createAipaygent({
  store: STORE, storePrefix: STORE.startsWith('redis') ? `${prefix}:` : prefix, adminToken: ADMIN, freeCallsPerDay: 0,
  claude: { apiKey: 'sk-ant-bench', baseURL: fake.url, maxRetries: 0, memory: { maxInjectTokens: 64_000 } },
});
await ai.ready;
const server = createServer((req, res) => void ai.handle(nodeRequest(req, res, {})).then((out) => writeNodeResponse(res, out!)));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const post = async (path: string, key: string, body: unknown) => {
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text}`);
  return text;
};
const created = JSON.parse(await post('/admin/keys', ADMIN, {}));
await post('/admin/credits', ADMIN, { account_id: created.account_id, amount_micro_usd: 1e12, reason: 'bench' });
const key = created.api_key as string;
for (let i = 0; i < 100; i++) await ai.api.memory.put(created.account_id, { userId: 'u', key: `m/${String(i).padStart(3, '0')}`, data: { note: 'x'.repeat(1000), i } }, Date.now());

async function measure(name: string, body: () => Record<string, unknown>, before?: () => void): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < N + 20; i++) {
    before?.();
    const t = performance.now();
    await post('/claude/message', key, body());
    if (i >= 20) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * (times.length - 1))]!.toFixed(2);
  console.log(`${name.padEnd(52)} median ${at(0.5)} ms  p95 ${at(0.95)} ms  (${N} sequential calls, ${STORE}; ${fake.requests.length / (N + 20)} upstream calls each)`);
  fake.requests.length = 0;
}

const base = { model: 'claude-3-5-sonnet-20241022', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };
await measure('plain call', () => base);
await measure('+ injection of 100 memories of 1 KB (~36k tokens)', () => ({ ...base, memory: { user_id: 'u', prefix: 'm/', max_tokens: 64_000 } }));
let file = 0;
await measure('memory tool loop: view, create, answer (3 upstream)', () => ({ ...base, tools: [{ type: 'memory_20250818', name: 'memory' }], memory: { user_id: 'u' } }), () => {
  const use = (input: unknown) => (_req: unknown, res: Parameters<typeof json>[0]) =>
    json(res, { ...message(), stop_reason: 'tool_use', content: [{ type: 'tool_use', id: `t${++file}`, name: 'memory', input }] });
  fake.once(use({ command: 'view', path: '/memories/m' }));
  fake.once(use({ command: 'create', path: `/memories/f/${file}.md`, file_text: 'remember this' }));
});

server.close();
server.closeAllConnections();
await ai.close();
await fake.close();
if (STORE !== 'memory') await dropPrefix(STORE, STORE.startsWith('redis') ? `${prefix}:` : prefix);
