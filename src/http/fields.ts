// Field schemas shared by the routes: one definition validates at run time and documents (OpenAPI).
import { z } from 'zod';
import { invalid } from '../errors.js';
import { textProblem } from '../text.js';

// C0 and C1 control characters and DEL: never allowed in identifiers.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An identifier such as user_id or key: 1..maxBytes UTF-8 bytes, no control characters. */
export function identifier(name: string, maxBytes: number) {
  return z
    .string({ error: (i) => (i.input === undefined ? `${name} is required` : `${name} must be a string`) })
    .min(1, { error: `${name} must not be empty` })
    .refine((s) => Buffer.byteLength(s, 'utf8') <= maxBytes, { error: `${name} must be at most ${maxBytes} bytes (UTF-8)` })
    .refine((s) => !CONTROL.test(s), { error: `${name} must not contain control characters` })
    .refine((s) => s.isWellFormed(), { error: `${name} must be well-formed Unicode` });
}

/** `schema` plus the rule of text that reaches a store (no U+0000, well-formed Unicode), its message naming `name`. */
export function storable<S extends z.ZodString>(name: string, schema: S) {
  return schema.refine((s) => textProblem(s) === null, { error: (issue) => `${name} ${textProblem(issue.input as string)}` });
}

/** A positive integer given in a query string. */
export function queryInt(name: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, { error: `${name} must be an integer` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `${name} must be between ${min} and ${max}` });
}

/** Validates `input` against `schema`; the first problem becomes a precise 400. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'invalid_type' && issue.path.length === 0) throw invalid(`The ${what} must be a JSON object`);
  const field = issue.path.join('.');
  const message = issue.message.startsWith(String(issue.path[0] ?? '\0')) || !field ? issue.message : `${field}: ${issue.message}`;
  throw invalid(message);
}

function setOnce(out: Record<string, string>, k: string, v: string): void {
  if (k in out) throw invalid(`Query parameter "${k}" is given more than once`);
  out[k] = v;
}

/** The escape of a byte outside ASCII: only a query with one can decode to bytes that are not UTF-8. */
const HIGH_ESCAPE = /%[89a-f][0-9a-f]/i;
/** A "%" that starts no escape: taken literally by URLSearchParams, so made literal for decodeURIComponent too. */
const LONE_PERCENT = /%(?![0-9a-f]{2})/gi;

/**
 * URLSearchParams decodes bytes that are not UTF-8 to U+FFFD: "caf%E9" and "caf%E8" (Latin-1 escapes)
 * would both name the user "caf\uFFFD". Such a query is a 400 naming the parameter, as a body is.
 */
function checkUtf8Escapes(query: string): void {
  for (const part of query.split('&')) {
    try {
      decodeURIComponent(part.replace(LONE_PERCENT, '%25'));
    } catch {
      const name = part.slice(0, part.includes('=') ? part.indexOf('=') : undefined);
      throw invalid(`Query parameter "${name.slice(0, 64)}" is not percent-encoded UTF-8 (escapes such as %E9 are Latin-1: encode the text as UTF-8)`);
    }
  }
}

/** Query string to a plain object (URLSearchParams' decoding); a repeated parameter is a 400 (ambiguous). */
export function queryObject(query: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!query) return out;
  if (query.includes('%') || query.includes('+')) {
    if (HIGH_ESCAPE.test(query)) checkUtf8Escapes(query);
    for (const [k, v] of new URLSearchParams(query)) setOnce(out, k, v);
    return out;
  }
  // Nothing to decode (the usual case): split it directly, as URLSearchParams would (a leading "?" too).
  for (let start = query.charCodeAt(0) === 63 ? 1 : 0; start < query.length; ) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const eq = query.indexOf('=', start);
      if (eq === -1 || eq > end) setOnce(out, query.slice(start, end), '');
      else setOnce(out, query.slice(start, eq), query.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return out;
}
