// The Logger aipaygent reports masked faults to, and the adapter that lets a pino or bunyan logger be passed as is.

/** Where aipaygent reports what it masks from clients. `console` fits; so do pino and bunyan (detected, see toLogger). */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** The shape of pino and bunyan: structured fields first, then the message. */
interface StructuredLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** pino has bindings(); bunyan has fields and streams. Both take (object, message) and would drop a detail given after the message. */
function isStructured(logger: object): logger is StructuredLogger {
  const l = logger as { bindings?: unknown; fields?: unknown; streams?: unknown };
  return typeof l.bindings === 'function' || (typeof l.fields === 'object' && Array.isArray(l.streams));
}

/** pino's and bunyan's error serializers read `err`; anything else goes under `detail`. */
const fieldsOf = (detail: unknown): object => (detail === undefined ? {} : detail instanceof Error ? { err: detail } : { detail });

/** The logger the core calls, from the `logger` option. */
export function toLogger(option: Logger | undefined): Logger {
  if (option === undefined) return console;
  if (!isStructured(option)) return option;
  return {
    warn: (message, detail) => option.warn(fieldsOf(detail), message),
    error: (message, detail) => option.error(fieldsOf(detail), message),
  };
}
