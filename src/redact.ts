// Scrubs the operator's secrets out of text bound for a client or a log line (upstream messages, logged errors).
import type { Logger } from './observe/logger.js';

/** What replaces a secret, or a piece of one. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are never looked for: too short to tell from ordinary text. */
const MIN_SECRET = 4;
/** From this length on, any piece of a secret this long is redacted too (a truncated or partly quoted key). */
const PIECE = 12;
const MIN_FOR_PIECES = 16;
/** Nesting followed in a log detail; deeper values are replaced, never printed. */
const MAX_DEPTH = 8;

export interface Redactor {
  /** False when there is no secret to look for: then both methods return their input. */
  readonly active: boolean;
  /** `text` with every secret replaced: whole, URL-encoded, JSON-escaped, or a piece of at least 12 characters of a long one. */
  text(text: string): string;
  /** A copy of a log detail (an Error with its cause, objects, arrays) with every string in it redacted. */
  value(detail: unknown): unknown;
}

/** The forms a secret travels in: as is, percent-encoded (either hex case), JSON-escaped. */
function variants(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  const forms = [secret, encoded, encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), JSON.stringify(secret).slice(1, -1)];
  return [...new Set(forms)];
}

/**
 * The secrets of a URL: the `user:password@` part (and the password alone when it is long enough to
 * be unambiguous), and path segments or query values that look like API keys (16+ key characters),
 * as RPC providers put them (`…/v2/<key>`, `?apikey=<key>`).
 */
export function urlSecrets(url: string | undefined): string[] {
  // A stray "%" in a URL part is not an escape: the part itself is the secret then (decodeURIComponent would throw).
  const decoded = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  if (typeof url !== 'string' || !URL.canParse(url)) return [];
  const u = new URL(url);
  const out: string[] = [];
  if (u.password) {
    out.push(`${u.username}:${u.password}@`, decoded(u.password));
  } else if (u.username) out.push(`${u.username}@`, decoded(u.username));
  const tokenLike = /^[A-Za-z0-9_\-.~%]{16,}$/;
  for (const segment of u.pathname.split('/')) if (tokenLike.test(segment)) out.push(segment, decoded(segment));
  for (const [, v] of u.searchParams) if (tokenLike.test(v)) out.push(v);
  return out;
}

/** A Redactor for `secrets` (undefined and short ones are skipped). With none, both methods return their input. */
export function createRedactor(secrets: Iterable<string | undefined | null>): Redactor {
  const whole = new Set<string>();
  const pieces = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET) continue;
    for (const form of variants(secret)) {
      whole.add(form);
      if (form.length >= MIN_FOR_PIECES) for (let i = 0; i + PIECE <= form.length; i++) pieces.add(form.slice(i, i + PIECE));
    }
  }
  if (whole.size === 0) return { active: false, text: (t) => t, value: (v) => v };
  const needles = [...whole].sort((a, b) => b.length - a.length);

  function text(t: string): string {
    if (typeof t !== 'string' || t.length < MIN_SECRET) return t;
    // Marks every character covered by a whole secret or by a piece of one, then replaces each run once.
    let marks: Uint8Array | undefined;
    const mark = (from: number, to: number) => (marks ??= new Uint8Array(t.length)).fill(1, from, to);
    for (const n of needles) for (let i = t.indexOf(n); i !== -1; i = t.indexOf(n, i + 1)) mark(i, i + n.length);
    if (pieces.size) for (let i = 0; i + PIECE <= t.length; i++) if (pieces.has(t.slice(i, i + PIECE))) mark(i, i + PIECE);
    if (!marks) return t;
    let out = '';
    let kept = 0;
    for (let i = 0; i < t.length; ) {
      if (!marks[i]) {
        i++;
        continue;
      }
      out += t.slice(kept, i) + REDACTED;
      while (i < t.length && marks[i]) i++;
      kept = i;
    }
    return out + t.slice(kept);
  }

  function value(v: unknown, depth = 0, seen = new Map<object, unknown>()): unknown {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    if (depth >= MAX_DEPTH) return '[…]';
    if (ArrayBuffer.isView(v)) return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(value(x, depth + 1, seen));
      return out;
    }
    const source = v as Record<string, unknown>;
    let out: Record<string, unknown>;
    if (v instanceof Error) {
      // Still an Error (console prints its stack), with every string redacted, its cause included.
      const copy = new Error(text(v.message));
      copy.name = v.name;
      copy.stack = typeof v.stack === 'string' ? text(v.stack) : v.stack;
      out = copy as unknown as Record<string, unknown>;
      seen.set(v, out);
      if ('cause' in v) out.cause = value(v.cause, depth + 1, seen);
    } else {
      out = {};
      seen.set(v, out);
    }
    for (const k of Object.keys(source)) if (!(v instanceof Error && (k === 'stack' || k === 'message'))) out[k] = value(source[k], depth + 1, seen);
    return out;
  }

  return { active: true, text, value: (v) => value(v) };
}

/** `logger` with every message and detail passed through `redactor` first (the logger itself when there is nothing to redact). */
export function redactingLogger(logger: Logger, redactor: Redactor): Logger {
  if (!redactor.active) return logger;
  return {
    warn: (message, detail) => (detail === undefined ? logger.warn(redactor.text(message)) : logger.warn(redactor.text(message), redactor.value(detail))),
    error: (message, detail) => (detail === undefined ? logger.error(redactor.text(message)) : logger.error(redactor.text(message), redactor.value(detail))),
  };
}
