// GET /openapi.json on every mount: a real OpenAPI 3.1 validator accepts it, and it describes exactly the routes served.
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect, it } from 'vitest';
import type { AipaygentOptions } from '../../src/config.js';
import { openApiPath } from '../../src/http/openapi.js';
import { call, describeMounts, type Mounted } from '../support/mounts.js';

/** Every optional part on, so that every route and header exists (nothing here reaches a chain or Anthropic). */
export const FULL_OPTIONS: AipaygentOptions = {
  claude: { apiKey: 'sk-ant-test-not-used' },
  payments: { receiver: `0x${'1'.repeat(40)}`, chainId: 84532, x402: { facilitatorUrl: 'http://127.0.0.1:9' } },
  rateLimit: { requests: 10_000 },
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every "$ref" in the document points at something that exists. */
function danglingRefs(doc: any): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      const target = ref.replace(/^#\//, '').split('/').reduce<any>((at, part) => at?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      if (target === undefined) out.push(ref);
    }
    Object.values(node).forEach(walk);
  };
  walk(doc);
  return out;
}

/** "METHOD /path" of every operation in the document. */
const operations = (doc: any) =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));

/** A fall-through answer of the host (Express "Cannot GET", Koa "Not Found", the bare server's own 404): not ours. */
function fellThrough(r: Awaited<ReturnType<typeof call>>): boolean {
  if (r.status !== 404) return false;
  return r.body?.status !== 'error' || r.body.error?.message === 'No such endpoint';
}

describeMounts('GET /openapi.json', () => FULL_OPTIONS, (m: () => Mounted) => {
  let doc: any;

  it('is served without credentials, as JSON, and a real OpenAPI 3.1 validator accepts it', async () => {
    const r = await call(`${m().url}/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    doc = r.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(danglingRefs(doc)).toEqual([]);
  });

  it('names the mount as its server, so paths stay mount-relative', () => {
    expect(doc.servers).toEqual([{ url: m().prefix || '/', description: 'This mount' }]);
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/') && !p.startsWith('/ai/'))).toBe(true);
  });

  it('has exactly the operations of the live route table', () => {
    const table = m().ai.routes.map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(new Set(table).size).toBe(table.length);
    expect(operations(doc).sort()).toEqual([...table].sort());
    const ids = operations(doc).map((op) => {
      const [method, path] = op.split(' ');
      return doc.paths[path!][method!.toLowerCase()].operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every documented path is served: its methods answer (never a fall-through), another method gets 405 with exactly them in Allow', async () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      const url = m().url + path.replace(/\{[^}]+\}/g, (p) => (p === '{asset}' ? 'docs.js' : 'probe'));
      const documented = METHODS.filter((x) => item[x]).map((x) => x.toUpperCase());
      for (const method of documented) {
        const r = await call(url, { method });
        expect(fellThrough(r), `${method} ${path} fell through (${r.status} ${r.text.slice(0, 80)})`).toBe(false);
      }
      const other = ['PUT', 'PATCH', 'DELETE', 'POST', 'GET'].find((x) => !documented.includes(x))!;
      const r = await call(url, { method: other });
      expect(r.status, `${other} ${path}`).toBe(405);
      expect(r.headers.get('allow')!.split(', ').sort()).toEqual([...documented].sort());
    }
  });

  it('states the auth of every operation: API key (bearer or x-api-key), admin token, metrics token, or none', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.apiKeyHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(schemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const r of m().ai.routes) {
      const op = doc.paths[openApiPath(r.path)][r.method.toLowerCase()];
      const expected = { key: [{ apiKey: [] }, { apiKeyHeader: [] }], admin: [{ adminToken: [] }], metrics: [{ metricsToken: [] }, { adminToken: [] }], none: [] }[r.auth];
      expect(op.security, `${r.method} ${r.path}`).toEqual(expected);
      if (r.auth !== 'none') expect(Object.keys(op.responses)).toContain('401');
    }
  });

  it('documents the error shape and codes, the 402 payment object, and the metering headers', () => {
    const { schemas, responses, headers, parameters } = doc.components;
    expect(schemas.Error.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['invalid_request', 'payment_required', 'store_unavailable']));
    expect(schemas.PaymentRequiredError.required).toContain('payment');
    expect(schemas.Payment.required).toEqual(expect.arrayContaining(['price_micro_usd', 'balance_micro_usd', 'shortfall_micro_usd', 'buy']));
    expect(responses.payment_required.content['application/json'].schema.$ref).toBe('#/components/schemas/PaymentRequiredError');
    for (const h of ['RateLimit', 'RateLimit-Policy', 'X-Credits-Balance-Micro-USD', 'X-Cost-Micro-USD', 'ETag', 'PAYMENT-REQUIRED', 'PAYMENT-RESPONSE']) {
      expect(headers[h], h).toBeDefined();
    }
    for (const h of ['If-Match', 'Idempotency-Key', 'PAYMENT-SIGNATURE']) expect(parameters[h], h).toBeDefined();
    for (const r of m().ai.routes.filter((x) => x.metered)) {
      const op = doc.paths[openApiPath(r.path)][r.method.toLowerCase()];
      expect(op.responses['402'], `${r.method} ${r.path}`).toBeDefined();
      const ok = Object.entries<any>(op.responses).find(([s]) => s.startsWith('2'))![1];
      expect(Object.keys(ok.headers ?? {})).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'X-Credits-Balance-Micro-USD']));
    }
    const store = doc.paths['/memory/store'].post;
    expect(store.responses['200'].headers.ETag).toEqual({ $ref: '#/components/headers/ETag' });
    expect(doc.paths['/claude/message'].post.responses['200'].headers['X-Cost-Micro-USD']).toBeDefined();
    expect(Object.keys(doc.paths['/claude/message'].post.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
    const buy = doc.paths['/buy-credits'].post;
    expect(buy.parameters).toContainEqual({ $ref: '#/components/parameters/PAYMENT-SIGNATURE' });
    expect(buy.responses['402'].headers['PAYMENT-REQUIRED']).toBeDefined();
    expect(buy.responses['200'].headers['PAYMENT-RESPONSE']).toBeDefined();
  });

  it('request schemas come from the validating zod schemas: the article body fits, with its required fields', () => {
    const store = doc.paths['/memory/store'].post.requestBody;
    expect(store.required).toBe(true);
    const body = doc.components.schemas[store.content['application/json'].schema.$ref.split('/').pop()];
    expect(body.required).toEqual(['user_id', 'key', 'data']);
    expect(body.properties.ttl_days.type).toBe('number');
    const retrieve = doc.paths['/memory/retrieve'].get.parameters.filter((p: any) => p.in === 'query');
    expect(retrieve.filter((p: any) => p.required).map((p: any) => p.name)).toEqual(['user_id', 'key']);
    // An optional body (POST /admin/keys accepts none) is not required.
    expect(doc.paths['/admin/keys'].post.requestBody.required).toBe(false);
    // The Anthropic-compatible route documents Anthropic's error shape.
    const v1 = doc.paths['/v1/messages'].post.responses['401'].content['application/json'].schema.$ref;
    expect(doc.components.schemas[v1.split('/').pop()].properties.type.const).toBe('error');
  });
});
