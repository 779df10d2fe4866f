// Timestamp formatting shared by every JSON response.

// Records are read far more often than written: their few distinct timestamps are worth remembering.
const cache = new Map<number, string>();
const CACHE_MAX = 4096;

function isoCached(ms: number): string {
  let s = cache.get(ms);
  if (s === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    s = new Date(ms).toISOString();
    cache.set(ms, s);
  }
  return s;
}

/** ISO 8601 UTC with milliseconds, e.g. 2026-11-24T10:30:00.123Z. */
export const iso = (ms: number): string => isoCached(ms);

/** ISO 8601 UTC to the second, as in the article's `expires_at`: 2025-01-15T10:30:00Z. */
export const isoSeconds = (ms: number): string => isoCached(ms).slice(0, 19) + 'Z';

const DAY_MS = 86_400_000;
/** The last day asked for: every metered call asks, and almost always for today. */
let lastDay = { startsAt: NaN, day: '', endsAt: NaN };

/** The UTC day of `ms` ("2026-11-24") and the instant the next one starts. */
export function utcDay(ms: number): { readonly day: string; readonly endsAt: number } {
  const startsAt = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
  if (startsAt !== lastDay.startsAt) lastDay = { startsAt, day: new Date(startsAt).toISOString().slice(0, 10), endsAt: startsAt + DAY_MS };
  return lastDay;
}
