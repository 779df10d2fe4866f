// The search document of a memory: the terms of its key and of every leaf of its JSON value.
import { pushTerms } from './tokenize.js';

/**
 * Most terms one memory contributes to the index (the first ones, in document order). Bounds the
 * cost a write adds and stays below Postgres' 16,383 word positions per document.
 */
export const MAX_DOCUMENT_TERMS = 16_000;

/**
 * The terms of `key` and of `value`, in order: the key's words (split on `_ - / .` and camelCase),
 * then for every member of an object its field name and then its value, for every array item its
 * value; strings, numbers and booleans are leaves, null gives nothing. So `{"framework":"FastAPI"}`
 * reads "framework fastapi" then (with the other forms, last) "fast api": found by "framework fastapi",
 * "FastAPI" or "fast api".
 */
export function documentTerms(key: string, value: unknown, max = MAX_DOCUMENT_TERMS): string[] {
  const out: string[] = [];
  // Other forms of the words (camelCase parts, joined hyphenations, bigrams) go after all of them, so a
  // phrase finds its words adjacent; both lists share the bound.
  const extras: string[] = [];
  pushTerms(key, out, extras, max);
  // An explicit stack, not recursion: a value may be nested as deep as the limits allow.
  const stack: unknown[] = [value];
  while (stack.length && out.length < max) {
    const v = stack.pop();
    if (v instanceof FieldName) pushTerms(v.name, out, extras, max);
    else if (typeof v === 'string') pushTerms(v, out, extras, max);
    else if (typeof v === 'number' || typeof v === 'boolean') pushTerms(String(v), out, null, max);
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1], new FieldName(entries[i]![0]));
    }
  }
  return out.length + extras.length <= max ? out.concat(extras) : out.concat(extras).slice(0, max);
}

/** A field name on the walk's stack (so that a string value and a name are told apart). */
class FieldName {
  constructor(readonly name: string) {}
}

/** The document as stored beside a record: its terms separated by single spaces. */
export const documentText = (key: string, value: unknown): string => documentTerms(key, value).join(' ');
