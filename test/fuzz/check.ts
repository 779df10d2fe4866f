// What every answer must be: no 5xx, the error shape on every error, no stack, path, class name, SQL or secret in it.
import { isUtf8 } from 'node:buffer';
import { STATUS_OF, type ErrorCode } from '../../src/errors.js';
import { AnthropicErrorBody, ErrorBody } from '../../src/http/openapi-schemas.js';
import type { Answer, LogLine } from './fixture.js';
import type { Operation } from './request-arbitrary.js';

/** Internals a client must never read (matched case-sensitively, each with the name of what it betrays). */
const INTERNALS: Array<[string, RegExp]> = [
  ['a stack frame', /^\s*at .+:\d+:\d+\)?$|\bat (?:async )?[\w$.<>]+ \((?:file:|node:|\/)/m],
  ['a source path', /\/src\/|\/node_modules\/|\.[cm]?[jt]s:\d+|file:\/\/|\/work\//],
  ['a class name', /\b(?:TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError|AipaygentError|ZodError|StoreUnavailableError|StoreRefusedValueError|DatabaseError|RedisError)\b/],
  ['an errno', /\bE(?:CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|ADDRINUSE)\b|Maximum call stack/],
  ['SQL', /\b(?:SELECT .+ FROM|INSERT INTO|UPDATE \S+ SET|DELETE FROM|CREATE (?:TABLE|SCHEMA|INDEX)|ON CONFLICT|RETURNING|SQLSTATE|pg_catalog)\b|syntax error at or near|invalid byte sequence|relation "/],
];

/** Static files of the docs page (Swagger UI's bundle, its CSS, an icon): third-party text, checked for secrets only. */
const STATIC_TYPES = /^(?:text\/javascript|text\/css|image\/)/;

/** Where `pattern` matches `text` with something the request itself did not carry (an echo is not a leak). */
function leaked(text: string, pattern: RegExp, sent: string): string | undefined {
  for (const m of text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))) {
    if (!sent.includes(m[0])) return m[0];
  }
  return undefined;
}

function errorShape(op: Operation, a: Answer): string | undefined {
  if (!String(a.headers['content-type']).startsWith('application/json')) return `an error answered as ${a.headers['content-type'] ?? 'no content-type'}`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return 'an error body that is not JSON';
  }
  if (op.anthropicErrors) return AnthropicErrorBody.safeParse(body).success ? undefined : "an error body not in Anthropic's shape";
  const parsed = ErrorBody.safeParse(body);
  if (!parsed.success) return 'an error body not in the error shape {"status":"error","error":{"code","message"}}';
  const code = parsed.data.error.code as ErrorCode;
  if (STATUS_OF[code] !== a.status) return `code ${code} answered with status ${a.status}`;
  if (!parsed.data.error.message) return 'an empty error message';
  return undefined;
}

/** Secrets anywhere, and internals that `sent` did not carry, in `text` (`where` names it in the problems). */
export function textProblems(where: string, text: string, sent: string, secrets: string[], internals = true): string[] {
  const out: string[] = [];
  for (const secret of secrets) if (text.includes(secret)) out.push(`a secret (${secret.slice(0, 6)}…) in ${where}`);
  if (!internals) return out;
  for (const [what, pattern] of INTERNALS) {
    const hit = leaked(text, pattern, sent);
    if (hit !== undefined) out.push(`${what} in ${where}: ${JSON.stringify(hit.slice(0, 120))}`);
  }
  return out;
}

/** The bytes a query's escapes stand for (a "%" that starts no escape is itself). */
function percentBytes(s: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '%' && /^[0-9a-f]{2}$/i.test(hex)) {
      out.push(Buffer.from([parseInt(hex, 16)]));
      i += 2;
    } else out.push(Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.concat(out);
}

/** Everything wrong with one answer (empty: fine). `sent` is the request as sent, without its credentials. */
export function problemsOf(op: Operation, a: Answer, sent: string, secrets: string[]): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`status ${a.status}`);
  // /openapi.json lists every status an operation answers (the pipeline's and the handler's): none other may come.
  // 405 is another path's answer: an empty parameter turns /admin/keys/:key_id into /admin/keys.
  if (!op.statuses.has(a.status) && a.status !== 405) out.push(`status ${a.status}, which /openapi.json does not list for this operation`);
  // Escapes that are not UTF-8 cannot be decoded without changing them (to U+FFFD): such a query is refused, never used.
  const query = /^\S+ [^?\s]*\?(\S*)/.exec(sent)?.[1];
  if (op.query.length && query && !isUtf8(percentBytes(query.replace(/#.*/, ''))) && ![400, 401].includes(a.status)) out.push(`a query that is not UTF-8 answered ${a.status} (silently changed)`);
  if (a.status >= 400) {
    const shape = errorShape(op, a);
    if (shape) out.push(shape);
  }
  const headerText = Object.entries(a.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  const staticFile = a.status < 300 && STATIC_TYPES.test(String(a.headers['content-type']));
  out.push(...textProblems('the answer', a.text, sent, secrets, !staticFile), ...textProblems('the answer\'s headers', headerText, sent, secrets));
  return out;
}

/**
 * Log lines that betray a fault or carry a secret. Client mistakes are not logged at all: an error is a
 * fault of ours or a backend's, a warning a store that refused a value some door let through.
 */
export function logProblems(lines: LogLine[], secrets: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    out.push(`logged ${l.level === 'error' ? 'an error' : 'a warning'}: ${l.text.slice(0, 300)}`);
    for (const s of secrets) if (l.text.includes(s)) out.push(`a secret (${s.slice(0, 6)}…) in a log line`);
  }
  return out;
}
