// Reads and parses a JSON request body within the configured limits (size, depth, finite numbers).
import { isUtf8 } from 'node:buffer';
import { AipaygentError, invalid } from '../errors.js';
import { jsonProblem, jsonProblemMessage } from '../json-limits.js';
import type { BodySource } from './types.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxDepth: number;
}

const NOT_UTF8 = 'JSON body is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)';

/** Refuses (400) a body nested deeper than the limit or holding a number that is not finite. */
function checkBody(value: unknown, limits: BodyLimits): void {
  const problem = jsonProblem(value, limits.maxDepth);
  if (problem) throw invalid(jsonProblemMessage('JSON body', problem, limits.maxDepth));
}

/** Parses JSON text; malformed input is a 400 naming the problem, never a crash. */
export function parseJsonText(text: string, limits: BodyLimits): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`Malformed JSON body: ${(error as Error).message}`);
  }
  checkBody(value, limits);
  return value;
}

/** Returns the request's JSON body (undefined when there is none). */
export async function readJsonBody(body: BodySource, limits: BodyLimits): Promise<unknown> {
  if (body.kind === 'none') return undefined;
  if (body.kind === 'parsed') {
    // A host parser (express.json()) read 1e400 as Infinity too: the same checks apply.
    checkBody(body.value, limits);
    return body.value;
  }
  const bytes = await body.read(limits.maxBodyBytes);
  if (bytes.byteLength === 0) return undefined;
  // Decoding would turn each invalid sequence into U+FFFD: the text stored would not be the one sent.
  if (!isUtf8(bytes)) throw invalid(NOT_UTF8);
  return parseJsonText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), limits);
}

/** The error a body reader throws when the body exceeds the limit. */
export function bodyTooLarge(limit: number): AipaygentError {
  return new AipaygentError('payload_too_large', `Request body exceeds ${limit} bytes`);
}
