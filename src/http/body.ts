// Reads and parses a JSON request body within the configured limits (size, depth).
import { AipaygentError, invalid } from '../errors.js';
import type { BodySource } from './types.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxDepth: number;
}

/** Depth of nested arrays/objects; iterative so hostile input cannot overflow the stack. */
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

/** Parses JSON text; malformed input is a 400 naming the problem, never a crash. */
export function parseJsonText(text: string, limits: BodyLimits): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`Malformed JSON body: ${(error as Error).message}`);
  }
  if (jsonDepth(value, limits.maxDepth) > limits.maxDepth) {
    throw invalid(`JSON body is nested deeper than ${limits.maxDepth} levels`);
  }
  return value;
}

/** Returns the request's JSON body (undefined when there is none). */
export async function readJsonBody(body: BodySource, limits: BodyLimits): Promise<unknown> {
  if (body.kind === 'none') return undefined;
  if (body.kind === 'parsed') {
    if (jsonDepth(body.value, limits.maxDepth) > limits.maxDepth) {
      throw invalid(`JSON body is nested deeper than ${limits.maxDepth} levels`);
    }
    return body.value;
  }
  const bytes = await body.read(limits.maxBodyBytes);
  if (bytes.byteLength === 0) return undefined;
  return parseJsonText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), limits);
}

/** The error a body reader throws when the body exceeds the limit. */
export function bodyTooLarge(limit: number): AipaygentError {
  return new AipaygentError('payload_too_large', `Request body exceeds ${limit} bytes`);
}
