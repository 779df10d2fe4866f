// The redactor: secrets out of upstream text and log details, in every form an upstream may quote them.
import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED, redactingLogger, urlSecrets } from '../../src/redact.js';

const KEY = 'sk-ant-api03-Zx9Qv_Lm2Np8Rt4Wy6Ab1Cd3Ef5Gh7Ij0Kl-operator';
const r = createRedactor([KEY, 'p@ss/w+rd:"quoted"-0123456789', undefined, 'abc']);

describe('createRedactor', () => {
  it('replaces a secret whole, percent-encoded (either hex case) and JSON-escaped', () => {
    expect(r.text(`invalid x-api-key ${KEY} (check it)`)).toBe(`invalid x-api-key ${REDACTED} (check it)`);
    const odd = 'p@ss/w+rd:"quoted"-0123456789';
    expect(r.text(`url ?k=${encodeURIComponent(odd)}&x=1`)).toBe(`url ?k=${REDACTED}&x=1`);
    const lowerHex = encodeURIComponent(odd).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    expect(r.text(`url ?k=${lowerHex}`)).toBe(`url ?k=${REDACTED}`);
    expect(r.text(`{"key":${JSON.stringify(odd)}}`)).toBe(`{"key":"${REDACTED}"}`);
  });

  it('replaces a piece of 12 characters or more of a long secret (truncated, elided or partly quoted), whole runs at once', () => {
    expect(r.text(`key "${KEY.slice(0, 20)}..." rejected`)).toBe(`key "${REDACTED}..." rejected`);
    expect(r.text(`…${KEY.slice(-15)}`)).toBe(`…${REDACTED}`);
    expect(r.text(`${KEY.slice(5, 30)}'${KEY.slice(30)}`)).toBe(`${REDACTED}'${REDACTED}`);
    // Shorter pieces are ordinary text: never worth a false hit.
    expect(r.text(KEY.slice(10, 21))).toBe(KEY.slice(10, 21));
  });

  it('ignores secrets too short to tell from text, and leaves text without secrets as the same string', () => {
    expect(r.text('abc is fine')).toBe('abc is fine');
    const t = 'nothing to see here, nothing at all';
    expect(r.text(t)).toBe(t);
    expect(createRedactor([undefined, '', 'xy']).active).toBe(false);
  });

  it('copies log details with every string redacted: Error (stack, own fields, cause), nested objects, arrays, cycles', () => {
    const inner = Object.assign(new Error(`connect to https://user:${KEY}@rpc.example failed`), { code: 'E_X', url: `https://x/${KEY}` });
    const outer = new Error('upstream failed', { cause: inner });
    const detail: Record<string, unknown> = { request: { headers: { 'x-api-key': KEY }, list: [KEY, 1, null] }, error: outer };
    detail.self = detail;
    const copy = r.value(detail) as any;
    expect(JSON.stringify(copy, (_k, v) => (v === copy ? '[self]' : v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v))).not.toContain(KEY.slice(10, 22));
    expect(copy.error).toBeInstanceOf(Error);
    expect(copy.error.cause.message).toBe(`connect to https://user:${REDACTED}@rpc.example failed`);
    expect(copy.error.cause.code).toBe('E_X');
    expect(copy.error.cause.stack).not.toContain(KEY);
    expect(copy.request.list).toEqual([REDACTED, 1, null]);
    expect(copy.self).toBe(copy);
    // The original is untouched.
    expect(inner.message).toContain(KEY);
  });
});

describe('urlSecrets', () => {
  it('takes the credentials of a URL and the API keys RPC providers put in paths and query strings', () => {
    expect(urlSecrets('postgres://app:s3cret-pass@db:5432/x')).toEqual(['app:s3cret-pass@', 's3cret-pass']);
    expect(urlSecrets('https://base-mainnet.g.alchemy.com/v2/AbCdEfGh0123456789xyz')).toEqual(['AbCdEfGh0123456789xyz', 'AbCdEfGh0123456789xyz']);
    expect(urlSecrets('https://rpc.example/?apikey=0123456789abcdef0123')).toEqual(['0123456789abcdef0123']);
    expect(urlSecrets('https://mainnet.base.org')).toEqual([]);
    expect(urlSecrets('not a url')).toEqual([]);
  });
});

describe('redactingLogger', () => {
  it('scrubs message and detail; is the host logger itself when there is nothing to redact', () => {
    const lines: unknown[][] = [];
    const host = { warn: (...a: unknown[]) => void lines.push(a), error: (...a: unknown[]) => void lines.push(a) };
    const logger = redactingLogger(host, r);
    logger.error(`failed with ${KEY}`, { key: KEY });
    logger.warn('plain');
    expect(lines).toEqual([[`failed with ${REDACTED}`, { key: REDACTED }], ['plain']]);
    expect(redactingLogger(host, createRedactor([]))).toBe(host);
  });
});

describe('urlSecrets with a stray "%" (not an escape)', () => {
  it('takes the part as it is instead of throwing (an options check must name the option, not fail on URIError)', () => {
    expect(urlSecrets('redis://u:p%zz@h:6379')).toContain('p%zz');
    expect(urlSecrets(`https://rpc.example/v2/${'k'.repeat(20)}%zz`)).toContain(`${'k'.repeat(20)}%zz`);
  });
});
