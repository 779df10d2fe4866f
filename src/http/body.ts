// Reads and parses a JSON request body within the configured limits (size, depth, finite numbers).
import { isUtf8 } from 'node:buffer';
import { AipaygentError, invalid } from '../errors.js';
import { jsonProblem, jsonProblemMessage } from '../json-limits.js';
import type { BodySource } from './types.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxDepth: number;
  /** A body we read must be all there within this time (408 otherwise); a streamed one, between two chunks. */
  bodyTimeoutMs: number;
}

/**
 * The bytes held by bodies being read, across the calls of one service: a body is let in only if its
 * size (declared, else the largest allowed) fits in what is left, so slow uploads cannot fill the heap.
 */
export class BodyBudget {
  private held = 0;
  constructor(readonly maxBytes: number) {}
  /** Reserves `bytes`; false when they do not fit (answer 503 and read nothing). */
  take(bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }
  give(bytes: number): void {
    this.held -= bytes;
  }
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

/** Returns the request's JSON body (undefined when there is none), reading within the budget and the time limit. */
export async function readJsonBody(body: BodySource, limits: BodyLimits, budget: BodyBudget): Promise<unknown> {
  if (body.kind === 'none') return undefined;
  if (body.kind === 'parsed') {
    // A host parser (express.json()) read 1e400 as Infinity too: the same checks apply.
    checkBody(body.value, limits);
    return body.value;
  }
  // What this body may hold while it arrives: its declared length (a larger one is a 413 below), else the limit.
  const reserved = Math.min(body.length ?? limits.maxBodyBytes, limits.maxBodyBytes);
  if (!budget.take(reserved)) {
    body.discard?.();
    throw serverBusy();
  }
  let bytes: Uint8Array;
  try {
    bytes = await body.read(limits.maxBodyBytes, limits.bodyTimeoutMs);
  } finally {
    budget.give(reserved);
  }
  if (bytes.byteLength === 0) return undefined;
  // Decoding would turn each invalid sequence into U+FFFD: the text stored would not be the one sent.
  if (!isUtf8(bytes)) throw invalid(NOT_UTF8);
  return parseJsonText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), limits);
}

/** The error a body reader throws when the body exceeds the limit. */
export function bodyTooLarge(limit: number): AipaygentError {
  return new AipaygentError('payload_too_large', `Request body exceeds ${limit} bytes`);
}

/** A body that did not arrive in time: 408 (the reader closes the connection with the answer). */
export function bodyTimedOut(ms: number, what = 'in full'): AipaygentError {
  return new AipaygentError('request_timeout', `The request body did not arrive ${what} within ${ms} ms; send it again.`);
}

/** Too many bytes of bodies in flight already: 503, nothing read, retry in a second. */
export function serverBusy(): AipaygentError {
  return new AipaygentError('server_busy', 'This server is reading too many request bodies at once; nothing was read or charged. Retry shortly.', undefined, {
    'retry-after': '1',
  });
}
