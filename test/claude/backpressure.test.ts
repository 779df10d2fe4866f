// HTTP: a stream is relayed at the client's pace: a client that stops reading stops the upstream (no buffering).
import { expect, it } from 'vitest';
import { account, OPERATOR_KEY, settled, useFakeAnthropic } from '../support/claude.js';
import { frame, message, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { describeMounts } from '../support/mounts.js';

const fake = useFakeAnthropic();

const TOTAL_MB = 48;
const CHUNK = 'x'.repeat(16 * 1024);

describeMounts('Claude proxy backpressure', () => ({ freeCallsPerDay: 0, claude: { apiKey: OPERATOR_KEY, baseURL: fake.url, maxRetries: 0 } }), (m) => {
  it(`holds a ${TOTAL_MB} MB stream back while the client does not read, then delivers all of it`, async () => {
    const { key } = await account(m(), 1_000_000);
    const msg = message();
    let written = 0;
    let upstreamDone = false;
    fake.setDefault(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frame('message_start', { type: 'message_start', message: { ...msg, content: [], usage: { input_tokens: 25, output_tokens: 1 } } }));
      const delta = frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: CHUNK } });
      while (written < TOTAL_MB * 1024 * 1024) {
        written += delta.length;
        // Honour the fake's own backpressure: it writes only as fast as the proxy reads.
        if (!res.write(delta)) await new Promise((r) => res.once('drain', r));
        if (res.destroyed) return;
      }
      res.write(frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5000 } }));
      res.end(frame('message_stop', { type: 'message_stop' }));
      upstreamDone = true;
    });
    const res = await fetch(`${m().url}/claude/message`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: msg.model, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    // The client stops reading: socket buffers fill up, then the upstream must stall far from the end.
    await new Promise((r) => setTimeout(r, 800));
    const writtenWhilePaused = written;
    expect(upstreamDone).toBe(false);
    expect(writtenWhilePaused).toBeLessThan((TOTAL_MB / 2) * 1024 * 1024);
    let received = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) received += r.value.length;
    expect(upstreamDone).toBe(true);
    expect(received).toBeGreaterThan(TOTAL_MB * 1024 * 1024 - writtenWhilePaused);
    // 25 x $3 + 5000 x $15 per MTok.
    expect((await settled(m(), key)).spent).toBe(75 + 75_000);
  });
});
