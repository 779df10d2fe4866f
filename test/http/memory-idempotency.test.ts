// An Idempotency-Key on a streamed body (NDJSON import): the same body is a replay, another body a 409, as for JSON bodies.
import { describe, expect, it } from 'vitest';
import { bodyMatches, digestingBody } from '../../src/http/body-digest.js';
import { bodyTooLarge } from '../../src/http/body.js';
import type { BodySource } from '../../src/http/types.js';
import { call, describeMounts } from '../support/mounts.js';
import { client, newKey } from '../memory/support.js';

const ndjson = (...rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

describeMounts('Idempotency-Key on POST /memory/import', () => ({ freeCallsPerDay: 100 }), (m) => {
  it('replays the same body, refuses another body with 409 conflict (its lines never written), and charges neither', async () => {
    const key = await newKey(m());
    const c = client(m(), key);
    const post = (body: string, idem: string) =>
      call(`${m().url}/memory/import?user_id=u`, { key, raw: body, headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': idem } });
    const freeLeft = async () => Number(/"free";r=(\d+)/.exec((await c.list('nobody')).headers.get('ratelimit') ?? '')![1]);

    const a = ndjson({ key: 'a1', data: 1 }, { key: 'a2', data: 2 });
    const first = await post(a, 'import-1');
    expect([first.status, first.headers.get('idempotent-replayed'), first.body.imported]).toEqual([200, null, 2]);
    const before = await freeLeft();

    const other = await post(ndjson({ key: 'b1', data: 'other' }), 'import-1');
    expect([other.status, other.body.error.code, other.body.error.message]).toEqual([409, 'conflict', expect.stringMatching(/different request/)]);
    expect((await c.retrieve('u', 'b1')).status).toBe(404);
    // A body that only starts like the first one, or goes on after it, is another body too.
    for (const body of [ndjson({ key: 'a1', data: 1 }), `${a}\n${ndjson({ key: 'b2', data: 3 })}`, `${a}\n`]) {
      expect((await post(body, 'import-1')).status).toBe(409);
    }
    expect((await c.retrieve('u', 'b2')).status).toBe(404);

    const replay = await post(a, 'import-1');
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([200, 'true', first.text]);
    // Two retrieves and the list call of freeLeft() cost one each; the conflicts and the replay nothing.
    expect(await freeLeft()).toBe(before - 3);

    const fresh = await post(ndjson({ key: 'b1', data: 'other' }), 'import-2');
    expect([fresh.status, fresh.body.imported]).toEqual([200, 1]);
    expect((await c.retrieve('u', 'b1')).body.data).toBe('other');
  });

  it('a JSON body keeps its fingerprint as before: same body replayed, another refused', async () => {
    const key = await newKey(m());
    const post = (data: unknown) => call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data }, headers: { 'idempotency-key': 'store-1' } });
    expect((await post(1)).status).toBe(200);
    expect((await post(1)).headers.get('idempotent-replayed')).toBe('true');
    expect((await post(2)).status).toBe(409);
  });
});

describe('the digest of a streamed body', () => {
  /** A stream source over `parts`, as the node layer gives one (413 past the limit). */
  const source = (parts: string[]): BodySource => ({
    kind: 'stream',
    read: async (limit) => {
      const all = Buffer.from(parts.join(''));
      if (all.length > limit) throw bodyTooLarge(limit);
      return all;
    },
    async *chunks(limit) {
      let size = 0;
      for (const p of parts) {
        if ((size += Buffer.byteLength(p)) > limit) throw bodyTooLarge(limit);
        yield Buffer.from(p);
      }
    },
  });

  const chunksOf = (b: BodySource) => (b as Extract<BodySource, { kind: 'stream' }>).chunks!(1000);

  it('exists only once the reader took the whole body; a replay body matches it only when equal, whatever its chunks', async () => {
    const half = digestingBody(source(['{"key":"a"}\n', '{"key":"b"}']));
    for await (const chunk of chunksOf(half.body)) {
      expect(String(chunk)).toBe('{"key":"a"}\n');
      break;
    }
    expect(half.digest()).toBeUndefined();

    const whole = digestingBody(source(['{"key":"a"}\n', '{"key":"b"}']));
    for await (const chunk of chunksOf(whole.body)) expect(chunk.length).toBeGreaterThan(0);
    const digest = whole.digest()!;
    expect(digest).toMatch(/^23:/);
    expect(await bodyMatches(source(['{"key":"a"}', '\n{"key":"b"}']), digest, 1000)).toBe(true);
    expect(await bodyMatches({ kind: 'parsed', value: '{"key":"a"}\n{"key":"b"}' }, digest, 1000)).toBe(true);
    for (const other of [['{"key":"a"}\n'], ['{"key":"a"}\n{"key":"c"}'], ['{"key":"a"}\n{"key":"b"}\n'], ['x'.repeat(10_000)]]) {
      expect(await bodyMatches(source(other), digest, 1000)).toBe(false);
    }
    expect(await bodyMatches({ kind: 'none' }, digest, 1000)).toBe(false);
  });
});
