// One abort signal shared by the commands sent within a short window: "drop it if still unsent" without a timer per command.
import { setMaxListeners } from 'node:events';

/**
 * node-redis drops a command still waiting to be written (reconnecting, socket backpressure) when its
 * `abortSignal` fires. Its per-command `timeout` option does the same with `AbortSignal.timeout()` per
 * command: a timer and a weakly held signal each, measured at several µs of CPU and a large share of
 * GC per metered call under load (bench/probe.ts PROFILE=1 express-redis-retrieve: node:internal/abort_controller
 * on every command, though none ever fired). Here the commands of one window of `slackMs` share one
 * signal, fired `timeoutMs` after the window opened: a command is dropped once unsent for between
 * `timeoutMs - slackMs` and `timeoutMs`, so never written after the store call's own time bound
 * (guard.ts) answered 503 for it. One timer per window while commands flow, none when idle.
 */
export class SendDeadline {
  private controller: AbortController | undefined;
  private openedAt = -Infinity;
  private readonly slackMs: number;

  constructor(private readonly timeoutMs: number) {
    // A tenth of the bound, at most 50 ms: a command keeps at least 90% of its time to be written.
    this.slackMs = Math.max(1, Math.min(50, timeoutMs / 10));
  }

  /** The signal for a command sent now. */
  signal(): AbortSignal {
    const now = performance.now();
    if (now - this.openedAt < this.slackMs) return this.controller!.signal;
    const controller = new AbortController();
    // Each unsent command listens to it (node-redis removes its listener once the command is written).
    setMaxListeners(0, controller.signal);
    setTimeout(() => controller.abort(), Math.max(0, this.timeoutMs)).unref();
    this.controller = controller;
    this.openedAt = now;
    return controller.signal;
  }
}
