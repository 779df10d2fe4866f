// Long loops give the event loop a turn now and then: a store answering in microtasks (in memory) never would.
import { setImmediate } from 'node:timers/promises';

/** Continuous work a loop does before it yields. */
export const SLICE_MS = 10;

/** One loop's clock: `pass()` yields once SLICE_MS of work went by since the last turn, else costs a clock read. */
export class TimeSlice {
  private turn = performance.now();

  async pass(): Promise<void> {
    if (performance.now() - this.turn < SLICE_MS) return;
    await setImmediate();
    this.turn = performance.now();
  }
}
