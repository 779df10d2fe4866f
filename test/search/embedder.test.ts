// The test embedder and the relevance scoring: deterministic vectors of the declared size, and recall/MRR as defined.
import { describe, expect, it } from 'vitest';
import { hashEmbedder, words } from '../support/embedder.js';
import { scoreQuery } from '../../bench/search/evaluate.js';

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('hashEmbedder', () => {
  it('gives unit vectors of the declared size, the same for the same text on every call', async () => {
    const e = hashEmbedder({ dimensions: 64 });
    expect(e).toMatchObject({ dimensions: 64, model: 'hash-64' });
    const [a, b] = await e.embed(['Käsespätzle with Bergkäse', 'Käsespätzle with Bergkäse']);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
    expect(cosine(a!, a!)).toBeCloseTo(1, 6);
    expect(await hashEmbedder({ dimensions: 64 }).embed(['Käsespätzle with Bergkäse'])).toEqual([a]);
    expect(e.stats).toEqual({ calls: 1, texts: 2 });
  });

  it('puts texts sharing stems and spellings closer than unrelated ones (and is not semantic)', async () => {
    const [q, near, far, synonym] = await hashEmbedder().embed(['invoice generation', 'Invoices are generated nightly', 'borrow checker errors', 'bill creation']);
    expect(cosine(q!, near!)).toBeGreaterThan(cosine(q!, far!) + 0.2);
    // A synonym shares no word: nothing brings it closer.
    expect(cosine(q!, synonym!)).toBeLessThan(0.3);
  });

  it('answers the zero vector for a text without content words, never NaN', async () => {
    const [v] = await hashEmbedder().embed(['the of and ...']);
    expect(v!.every((x) => x === 0)).toBe(true);
  });

  it('splits keys and humps as the relevance labels assume', () => {
    expect(words('meetingNotes2026-03')).toEqual(['meeting', 'notes', '2026', 'meetingnotes2026', '03']);
    expect(words('Café Müller')).toEqual(['cafe', 'muller']);
    expect(words('大阪在住')).toEqual(['大阪在住', '大阪', '阪在', '在住']);
  });
});

describe('relevance scoring', () => {
  const query = { id: 'x-01', q: 'q', relevant: ['a', 'b'], sharesWord: true };
  it('recall counts the relevant keys in the top 5; MRR the rank of the first within 10', () => {
    expect(scoreQuery(query, 'u', ['a', 'x', 'y', 'z', 'w', 'b'])).toMatchObject({ recall: 0.5, reciprocalRank: 1 });
    expect(scoreQuery(query, 'u', ['x', 'y', 'b', 'a'])).toMatchObject({ recall: 1, reciprocalRank: 1 / 3 });
    expect(scoreQuery(query, 'u', [...'cdefghijkl', 'a'])).toMatchObject({ recall: 0, reciprocalRank: 0 });
    expect(scoreQuery(query, 'u', [])).toMatchObject({ recall: 0, reciprocalRank: 0 });
  });
});
