// Memory tool paths (`/memories/notes/todo.md`) to memory keys (`notes/todo.md`): validated, NFC-normalised.

/** The root every memory tool path lives under. */
export const MEMORY_ROOT = '/memories';

/**
 * A valid path: `key` is the memory key of a file at that path ('' for the root, which is only a
 * directory); `dir` is the key prefix of a directory at that path ('' for the root, else `key + '/'`);
 * `slash` says the path ended with "/" (a directory only); `path` is the normalised path to show.
 */
export type MemoryPath = { ok: true; path: string; key: string; dir: string; slash: boolean } | { ok: false; message: string };

// C0, C1 and DEL: never in a key (history entries use \u0001 as separator).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks one path of the model: a string under `/memories`, NFC-normalised, well-formed Unicode, no
 * control characters, no empty (`//`), `.` or `..` segment, a key of at most `maxKeyBytes` UTF-8 bytes.
 */
export function parseMemoryPath(raw: unknown, maxKeyBytes: number): MemoryPath {
  if (typeof raw !== 'string' || raw === '') return { ok: false, message: 'The path must be a non-empty string starting with /memories' };
  if (!raw.isWellFormed()) return { ok: false, message: 'The path must be well-formed Unicode' };
  const path = raw.normalize('NFC');
  if (CONTROL.test(path)) return { ok: false, message: 'The path must not contain control characters' };
  if (path !== MEMORY_ROOT && path !== `${MEMORY_ROOT}/` && !path.startsWith(`${MEMORY_ROOT}/`)) {
    return { ok: false, message: `The path ${path} is outside ${MEMORY_ROOT}: every path must start with ${MEMORY_ROOT}` };
  }
  const slash = path.endsWith('/');
  const rest = path.slice(MEMORY_ROOT.length + 1, slash ? -1 : undefined);
  if (rest === '') return { ok: true, path: MEMORY_ROOT, key: '', dir: '', slash };
  for (const segment of rest.split('/')) {
    if (segment === '') return { ok: false, message: `The path ${path} has an empty segment (//)` };
    if (segment === '.' || segment === '..') return { ok: false, message: `The path ${path} must not contain "." or ".." segments` };
  }
  if (Buffer.byteLength(rest, 'utf8') > maxKeyBytes) {
    return { ok: false, message: `The path ${path} is too long: at most ${maxKeyBytes} bytes (UTF-8) after ${MEMORY_ROOT}/` };
  }
  return { ok: true, path: slash ? `${MEMORY_ROOT}/${rest}/` : `${MEMORY_ROOT}/${rest}`, key: rest, dir: `${rest}/`, slash };
}

/** The path showing a key. */
export const pathOfKey = (key: string): string => `${MEMORY_ROOT}/${key}`;
