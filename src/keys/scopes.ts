// API key scopes: what a key may call. A key without scopes may call everything (every key made before scopes existed).
import { AipaygentError } from '../errors.js';

/** Every scope, in the sorted order a key's tag lists them. */
export const SCOPES = ['claude', 'memory:read', 'memory:write', 'payments'] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: unknown): s is Scope => (SCOPES as readonly unknown[]).includes(s);

/** The tag of a live key record: every scope. */
export const ACTIVE = 'active';
/** The tag of a revoked key record (its scopes stay in its metadata). */
export const REVOKED = 'revoked';

/**
 * The scopes a key keeps, or undefined for every scope: sorted and unique; a list naming every scope is
 * every scope (so such a key also gets a scope added later, like a key created without scopes).
 */
export function normalScopes(scopes: readonly Scope[] | undefined): Scope[] | undefined {
  if (scopes === undefined) return undefined;
  const set = new Set(scopes);
  return set.size === SCOPES.length ? undefined : SCOPES.filter((s) => set.has(s));
}

/** The tag of a live key: 'active' for every scope, else 'active;<scope>,<scope>' (sorted): what `charge` checks (ChargeAuth.scope). */
export const activeTag = (scopes: readonly Scope[] | undefined): string => (scopes === undefined ? ACTIVE : `${ACTIVE};${scopes.join(',')}`);

/** A live key's scopes from its tag (undefined: every scope), or null when the tag is not a live key's. */
export function scopesOfTag(tag: string): Scope[] | undefined | null {
  if (tag === ACTIVE) return undefined;
  if (!tag.startsWith(`${ACTIVE};`)) return null;
  return tag.slice(ACTIVE.length + 1).split(',').filter(isScope);
}

/** Whether a key with `scopes` (undefined: every scope) may call a route needing `scope`. */
export const allows = (scopes: readonly Scope[] | undefined, scope: Scope | undefined): boolean =>
  scope === undefined || scopes === undefined || scopes.includes(scope);

/** The 403 of a valid key that lacks the scope a call needs. */
export const missingScope = (scope: Scope, has: readonly Scope[]): AipaygentError =>
  new AipaygentError('forbidden', `This API key lacks the scope "${scope}" that this call needs (its scopes: ${has.join(', ')}); create a key with it`);
