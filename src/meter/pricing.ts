// Endpoints billed a fixed price per call, and their default prices.

/** Endpoints billed a fixed price per call (`metered: true` routes). */
export type PricedPath =
  | '/memory/store' | '/memory/retrieve' | '/memory/list' | '/memory/delete'
  | '/memory/append' | '/memory/patch' | '/memory/history' | '/memory/restore' | '/memory/export' | '/memory/import' | '/memory/search';

export const DEFAULT_PRICING: Readonly<Record<PricedPath, number>> = {
  '/memory/store': 100,
  '/memory/retrieve': 100,
  '/memory/list': 100,
  '/memory/delete': 100,
  '/memory/append': 100,
  '/memory/patch': 100,
  '/memory/history': 100,
  '/memory/restore': 100,
  // One call exports or imports all of a user's memories: the user's own data, not priced per record.
  '/memory/export': 100,
  '/memory/import': 100,
  // Ranks the user's memories (more work than a read): priced as one call all the same, like every memory route.
  '/memory/search': 100,
};
