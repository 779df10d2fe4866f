// Spend caps and conditional events, the parts every store decides alike (SpendCap, OperationEvents in outbox.ts).
import type { OperationEvents, OutboxRow, SpendCap } from './outbox.js';

/** The index of the first cap that `amount` more would take over its limit, else -1; `used(counter)` reads a live counter (0 when absent). */
export function capOver(caps: readonly SpendCap[] | undefined, amount: number, used: (counter: string) => number): number {
  if (!caps) return -1;
  for (let i = 0; i < caps.length; i++) if (used(caps[i]!.counter) + amount > caps[i]!.limit) return i;
  return -1;
}

/** The rows `events.low` writes when the balance went from `before` to `after` (once per crossing), else none. */
export function lowRows(events: OperationEvents | undefined, before: number, after: number): readonly OutboxRow[] {
  const low = events?.low;
  return low && before >= low.below && after < low.below ? low.rows : [];
}

/** The rows `events.capped` writes when caps[cap] refused. */
export const cappedRows = (events: OperationEvents | undefined, cap: number): readonly OutboxRow[] => events?.capped?.[cap] ?? [];
