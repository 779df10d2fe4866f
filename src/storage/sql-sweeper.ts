// The periodic sweep the SQL stores run themselves: unref'd, never overlapping, stopped by close().
import type { Millis } from './contract.js';
import type { OpenOptions } from './open.js';

/** Options of the native SQL stores on top of what `openStore` passes. */
export interface SqlStoreOptions extends OpenOptions {
  /**
   * How often the store deletes expired rows and releases expired holds by itself; 0 turns it off.
   * @default 60000
   */
  sweepIntervalMs?: number;
}

export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/** Starts calling `sweep(Date.now())` every `intervalMs`; returns the function that stops it. */
export function startSweeper(sweep: (now: Millis) => Promise<unknown>, intervalMs = DEFAULT_SWEEP_INTERVAL_MS): () => void {
  if (!(intervalMs > 0)) return () => {};
  let running = false;
  const timer = setInterval(() => {
    // A slow sweep (large backlog) must not pile up concurrent sweeps behind it.
    if (running) return;
    running = true;
    sweep(Date.now())
      // Swallowed on purpose: expired rows are never served anyway, the next tick retries, and store
      // faults surface (fail closed) on the calls that matter.
      .catch(() => {})
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  // Housekeeping must never keep the host process alive.
  timer.unref();
  return () => clearInterval(timer);
}
