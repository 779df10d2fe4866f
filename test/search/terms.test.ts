// The terms every backend indexes and the query language: folding, splitting, stems, documents, phrases, prefixes.
import { describe, expect, it } from 'vitest';
import { documentTerms, MAX_DOCUMENT_TERMS } from '../../src/search/document.js';
import { parseQuery } from '../../src/search/query.js';
import { fold, termsOf } from '../../src/search/tokenize.js';

describe('terms', () => {
  it('folds case, Latin accents, ß and compatibility forms; keeps the marks of other scripts', () => {
    expect(fold('Café MÜLLER Straße ﬁle Ｆｕｌｌ')).toBe('cafe muller strasse file full');
    // A character folding to several words gives several terms.
    expect(termsOf('½ ⑴')).toEqual(['1', '2', '1']);
    expect(fold('Ελληνικά')).toBe('ελληνικα');
    expect(termsOf('हिन्दी')).toEqual(['हिन्दी'.normalize('NFKD').normalize('NFC')]);
    expect(termsOf('東京 2026')).toEqual(['東京', '2026']);
  });

  it('splits on everything but letters and digits, stems ASCII words, cuts very long runs', () => {
    expect(termsOf('deploying, deployed; deploys!')).toEqual(['deploi', 'deploi', 'deploi']);
    expect(termsOf('v1.2-beta_3/x')).toEqual(['v1', '2', 'beta', '3', 'x']);
    expect(termsOf('a'.repeat(100))[0]).toHaveLength(64);
  });

  it('a document: its words in order (field names before their values), then their other forms', () => {
    expect(documentTerms('frontendStack', { framework: 'FastAPI', n: 3, ok: true, none: null })).toEqual([
      'frontendstack', 'framework', 'fastapi', 'n', '3', 'ok', 'true', 'none', 'frontend', 'stack', 'fast', 'api',
    ]);
    expect(documentTerms('meetingNotes2026-03', ['HTTPServer'])).toEqual(['meetingnotes2026', '03', 'httpserver', 'meet', 'note', '2026', 'meetingnotes202603', 'http', 'server']);
    // Cased scripts beyond ASCII split too; hyphenations are joined; Chinese and Japanese runs give bigrams.
    expect(documentTerms('k', 'MüllerStraße e-scooter 大阪在住')).toEqual(['k', 'mullerstrass', 'e', 'scooter', '大阪在住', 'muller', 'strass', 'escoot', '大阪', '阪在', '在住']);
    expect(documentTerms('k', { outer: { inner: ['x', { deep: 'y' }] } })).toEqual(['k', 'outer', 'inner', 'x', 'deep', 'y']);
  });

  it('a document is bounded, and a deeply nested value is walked without recursion', () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => `word${i}`).join(' ');
    expect(documentTerms('k', huge)).toHaveLength(MAX_DOCUMENT_TERMS);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(documentTerms('k', deep)).toEqual(['k', 'bottom']);
  });
});

describe('query language', () => {
  it('words, "phrases" and prefix*; stop words dropped unless nothing else is left; deduplicated', () => {
    expect(parseQuery('What is the framework?')).toEqual([{ words: ['framework'], prefix: false }]);
    expect(parseQuery('the what')).toEqual([{ words: ['the'], prefix: false }, { words: ['what'], prefix: false }]);
    expect(parseQuery('"Fast API" deplo* fast fast')).toEqual([
      { words: ['fast', 'api'], prefix: false }, { words: ['deplo'], prefix: true }, { words: ['fast'], prefix: false },
    ]);
    // A prefix is folded, not stemmed; a one-letter prefix is a plain word.
    expect(parseQuery('Préférén*')).toEqual([{ words: ['preferen'], prefix: true }]);
    expect(parseQuery('a* zebra')).toEqual([{ words: ['zebra'], prefix: false }]);
    expect(parseQuery('"unterminated phrase')).toEqual([{ words: ['untermin', 'phrase'], prefix: false }]);
    // Other forms come after the words; a lone letter is dropped like a stop word; a phrase keeps only its words.
    expect(parseQuery("Lena's on-call")).toEqual([{ words: ['lena'], prefix: false }, { words: ['call'], prefix: false }, { words: ['oncal'], prefix: false }]);
    expect(parseQuery('"on-call rota"')).toEqual([{ words: ['on', 'call', 'rota'], prefix: false }]);
    expect(parseQuery('!!! ???')).toEqual([]);
  });

  it('a query is cut to 32 units', () => {
    expect(parseQuery(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '))).toHaveLength(32);
  });
});
