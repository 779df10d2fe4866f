// What every JSON value accepted must meet, checked iteratively (hostile depth cannot overflow the stack): nesting depth, finite numbers.

/** Depth of nested arrays/objects (a scalar is 0); stops counting once past `stopAt`. */
export function jsonDepth(value: unknown, stopAt: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}

/** Why a JSON value is refused: nested deeper than allowed, or a number that is not finite (at a JSON Pointer). */
export type JsonProblem = { kind: 'depth' } | { kind: 'number'; at: string };

const notFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);
const escapeToken = (t: string) => t.replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON Pointer of the first number that is not finite, by the same walk (run only once one was seen). */
function pointerToNonFinite(value: unknown): string {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [v, at] = stack.pop()!;
    if (notFinite(v)) return at;
    if (v !== null && typeof v === 'object') for (const [k, child] of Object.entries(v)) stack.push([child, `${at}/${escapeToken(k)}`]);
  }
  return '';
}

/**
 * Checks a parsed JSON value in one walk: at most `maxDepth` levels of nesting, and only finite
 * numbers. JSON.parse reads a literal such as 1e400 as Infinity, which JSON.stringify writes back as
 * null: accepting it would store another value than the one sent. Null when the value is fine.
 */
export function jsonProblem(value: unknown, maxDepth: number): JsonProblem | null {
  if (value === null || typeof value !== 'object') return notFinite(value) ? { kind: 'number', at: '' } : null;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > maxDepth) return { kind: 'depth' };
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object') {
        if (child !== null) stack.push([child, d + 1]);
      } else if (notFinite(child)) return { kind: 'number', at: pointerToNonFinite(value) };
    }
  }
  return null;
}

/** A problem in words, with its subject: "JSON body is nested deeper than 64 levels". */
export function jsonProblemMessage(subject: string, p: JsonProblem, maxDepth: number): string {
  if (p.kind === 'depth') return `${subject} is nested deeper than ${maxDepth} levels`;
  return `${subject} has a number out of range at ${p.at || 'the top level'} (JSON numbers must be finite: at most about 1.8e308 in magnitude)`;
}
