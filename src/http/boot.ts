// What an adapter does when the service it mounts fails to start: by default the process stops with the reason (fail fast).
import type { Aipaygent } from '../create.js';

/** Told why `ai.ready` rejected (a StartupError: its message is one line naming the fault). */
export type StartupErrorHandler = (error: unknown) => void;

/**
 * The default: rethrown outside any promise, so the process stops with the reason, as a missing import
 * or a bad configuration would stop it; a host that handles `uncaughtException` decides itself.
 */
export const failFast: StartupErrorHandler = (error) => {
  setImmediate(() => {
    throw error;
  });
};

const watched = new WeakSet<Aipaygent>();

/** Reports a failed start of `service` once, however many adapters mount it. */
export function surfaceStartupError(service: Aipaygent, onStartupError: StartupErrorHandler = failFast): void {
  if (watched.has(service)) return;
  watched.add(service);
  service.ready.catch(onStartupError);
}
