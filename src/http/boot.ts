// What an adapter does when the service it mounts fails to start: by default the process stops with the reason (fail fast).
import type { Aipaygent } from '../create.js';

/** Told why `ai.ready` rejected (a StartupError: its message is one line naming the fault). */
export type StartupErrorHandler = (error: unknown) => void;

/**
 * The default: the reason on stderr, one line, and the process exits 1, as the standalone server does
 * (and as a missing import or a bad configuration would stop it). A host that must keep running
 * without aipaygent passes its own handler; aipaygent's routes then answer 500 "did not start".
 */
export const failFast: StartupErrorHandler = (error) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${error instanceof Error ? error.name : 'Error'}: ${message}\n`);
  process.exit(1);
};

const watched = new WeakSet<Aipaygent>();

/** Reports a failed start of `service` once, however many adapters mount it. */
export function surfaceStartupError(service: Aipaygent, onStartupError: StartupErrorHandler = failFast): void {
  if (watched.has(service)) return;
  watched.add(service);
  service.ready.catch(onStartupError);
}
