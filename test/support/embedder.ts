// A deterministic local embedder for tests and benchmarks: feature hashing of word stems and character trigrams.
//
// It is NOT semantic. Two texts are close only when they share words, stems or spellings ("invoice" and
// "invoices", "Müller" and "Muller"); "car" and "automobile" are as far apart as any two unrelated words.
// It exists so that the embedding hook, the background indexing and the ranking code of semantic and
// hybrid search can be tested and benchmarked without a model download or a network call. Quality
// numbers measured with it say nothing about a real embedding model.

/** What `search:` takes in the options: an embedding function with its vector size and a model name. */
export interface HashEmbedder {
  embed(texts: string[]): Promise<number[][]>;
  dimensions: number;
  model: string;
  /** Calls and texts embedded so far (tests check that embedding happens, and how often). */
  readonly stats: { calls: number; texts: number };
}

// Function words carry no meaning of their own: hashing them would make every question look alike.
const STOP = new Set(
  ('a an and are as at be by can could did do does for from had has have how i in is it its me my of on or our ' +
    'should so that the their them there these this those to was we were what when where which who whom whose why ' +
    'will with would you your s').split(' '),
);

/** Lower-case, accents and compatibility forms folded ("Café" → "cafe", "Müller" → "muller", "ß" → "ss"). */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replaceAll('ß', 'ss');
}

/**
 * Words of `text`: split on anything not a letter or digit; a word written in humps ("meetingNotes2026",
 * "NeurIPS", "OKRs") gives its parts and, folded, the whole ("meeting", "notes", "2026", "meetingnotes2026"),
 * so that "neurips" in a key and "NeurIPS" in a query still meet. Chinese and Japanese are written without
 * spaces: a run of their characters also gives its overlapping bigrams ("大阪在住" → 大阪, 阪在, 在住), the usual
 * way to index them without a dictionary.
 */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[^\p{L}\p{N}]+/u)) {
    if (raw === '') continue;
    const parts = raw
      .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
      .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
      .replace(/(\p{L})(\p{N})|(\p{N})(\p{L})/gu, (_m, a?: string, b?: string, c?: string, d?: string) => (a ? `${a} ${b}` : `${c} ${d}`))
      .split(' ');
    for (const p of parts) out.push(fold(p));
    if (parts.length > 1) out.push(fold(raw));
    for (const run of raw.match(CJK_RUN) ?? []) for (let i = 0; i + 2 <= run.length; i++) out.push(run.slice(i, i + 2));
  }
  return out;
}

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]{3,}/gu;

/** A light English stem: plural, then -ing/-ed endings, never leaving fewer than four letters ("bus", "string" stay). */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(sses|xes|ches|shes|zzes|oes)$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length >= 7 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length >= 6 && w.endsWith('ed')) w = w.slice(0, -2);
  return w;
}

/** The content words of `text`, stemmed, stop words left out. */
export function contentStems(text: string): string[] {
  return words(text).filter((w) => !STOP.has(w)).map(stem);
}

/** FNV-1a, 32 bits: small, fast, and the same on every machine (no randomized seed). */
function fnv1a(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function vectorOf(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number): void => {
    // Signed hashing: a second hash picks the sign, so collisions cancel out on average instead of piling up.
    const sign = fnv1a(feature, 0x9e3779b9) & 1 ? 1 : -1;
    v[fnv1a(feature, 0) % dimensions]! += sign * weight;
  };
  for (const w of contentStems(text)) {
    add(`w:${w}`, 1);
    // Trigrams of the padded stem catch near spellings and shared roots ("postgres" / "postgresql").
    const padded = `<${w}>`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.25);
  }
  const norm = Math.hypot(...v);
  // A text with no content words has no direction: the zero vector (cosine 0 with everything), never NaN.
  return norm === 0 ? v : v.map((x) => x / norm);
}

/**
 * The deterministic embedder: `search: hashEmbedder()` in the options. Same text, same vector, on
 * every machine and run; no network, no model file. Not semantic (see the top of this file).
 */
export function hashEmbedder({ dimensions = 256, model = `hash-${dimensions}` }: { dimensions?: number; model?: string } = {}): HashEmbedder {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new Error(`dimensions must be a positive integer, got ${dimensions}`);
  const stats = { calls: 0, texts: 0 };
  return {
    dimensions,
    model,
    stats,
    async embed(texts: string[]): Promise<number[][]> {
      stats.calls++;
      stats.texts += texts.length;
      return texts.map((t) => vectorOf(t, dimensions));
    },
  };
}
