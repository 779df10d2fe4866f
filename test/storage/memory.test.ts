// The storage conformance suite on the default in-memory store, plus what is particular to it.
import { describe, expect, it } from 'vitest';
import { MemoryStore, utf8Compare } from '../../src/storage/memory-store.js';
import { storageConformance } from './conformance.js';

const store = new MemoryStore();
storageConformance('memory (default)', async () => ({ store, cleanup: () => store.close() }));

const bytes = (s: string) => new TextEncoder().encode(s);

describe('memory store', () => {
  it('orders keys by UTF-8 bytes, also past the surrogates', () => {
    const keys = ['\u{1F600}', '\uFFFD', 'z', 'a', '\uE000', '\u00E9', 'ab', ''];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(utf8Compare)).toEqual(byBytes);
    // Plain string order puts the emoji (surrogates) before U+E000 and U+FFFD: wrong here.
    expect([...keys].sort()).not.toEqual(byBytes);
  });

  it('keeps its own copy of a written value and hands out frozen ledger entries', async () => {
    const s = new MemoryStore();
    const value = bytes('{"a":1}');
    await s.put('a', 'c', 'k', { value, size: 7, tag: 't', expiresAt: null }, 1);
    value[2] = 0x42;
    expect(new TextDecoder().decode((await s.get('a', 'c', 'k', 2))!.value)).toBe('{"a":1}');
    const posted = await s.post('a', { amount: 5, kind: 'grant' }, 3);
    expect(posted.ok && Object.isFrozen(posted.entry)).toBe(true);
    await s.close();
  });

  it('sweep drops expired records, counters and claims from memory and releases expired holds', async () => {
    const s = new MemoryStore();
    const now = 1_000_000;
    await s.put('a', 'c', 'old', { value: bytes('1'), size: 1, tag: 't', expiresAt: now + 10 }, now);
    await s.put('a', 'c', 'kept', { value: bytes('2'), size: 1, tag: 't', expiresAt: null }, now);
    await s.post('a', { amount: 100, kind: 'grant' }, now);
    await s.hold('a', { holdId: 'h', amount: 40, expiresAt: now + 10 }, now);
    await s.claim(null, 'c1', 'v', now + 10, now);
    expect(await s.sweep(now + 20)).toEqual({ records: 1, holds: 1 });
    expect((await s.list('a', 'c', { limit: 10 }, now)).map((r) => r.key)).toEqual(['kept']);
    expect(await s.balance('a', now + 20)).toBe(100);
    expect(await s.claim(null, 'c1', 'w', null, now)).toEqual({ inserted: true });
    expect(await s.sweep(now + 30)).toEqual({ records: 0, holds: 0 });
    await s.close();
  });
});
