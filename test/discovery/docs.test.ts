// GET /docs: the page and its assets over HTTP on every mount, and the page rendered by headless Chromium with no network but localhost.
import { mkdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ASSETS, DOCS_CSP } from '../../src/http/routes/docs.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumOrSkip } from '../support/browser.js';
import { call, describeMounts, startMount, type Mounted } from '../support/mounts.js';

/** Raw GET (fetch would undo the gzip): status, headers and the bytes as sent. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, any>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

describeMounts('GET /docs', () => ({}), (m: () => Mounted) => {
  it('serves the page with a strict CSP and links under the mount, whatever the trailing slash', async () => {
    for (const path of ['/docs', '/docs/']) {
      const r = await call(m().url + path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('content-security-policy')).toBe(DOCS_CSP);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.text).toContain(`data-spec="${m().prefix}/openapi.json"`);
      expect(r.text).toContain(`src="${m().prefix}/docs/swagger-ui-bundle.js?v=`);
      expect(r.text).not.toMatch(/<script>|<style>|https?:\/\//);
    }
  });

  it('serves each asset from the package with its content type, gzipped when accepted, cacheable', async () => {
    const types: Record<string, RegExp> = { css: /^text\/css/, js: /^text\/javascript/, png: /^image\/png$/ };
    for (const name of DOCS_ASSETS) {
      const plain = await rawGet(`${m().url}/docs/${name}`);
      expect(plain.status, name).toBe(200);
      expect(plain.headers['content-type']).toMatch(types[name.split('.').pop()!]!);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const zipped = await rawGet(`${m().url}/docs/${name}`, { 'accept-encoding': 'gzip, deflate' });
      if (zipped.headers['content-encoding'] === 'gzip') expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
      else expect(zipped.body.equals(plain.body)).toBe(true);
    }
    const bundle = await rawGet(`${m().url}/docs/swagger-ui-bundle.js`, { 'accept-encoding': 'gzip' });
    expect(bundle.headers['content-encoding']).toBe('gzip');
    expect(bundle.body.length).toBeLessThan(700_000);
  });

  it('anything else under /docs/ is a precise 404, never a file of the disk', async () => {
    for (const name of ['nope.js', 'package.json', '..%2Fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json', 'swagger-ui.js.map', 'index.html', '__proto__', 'constructor']) {
      const r = await call(`${m().url}/docs/${name}`);
      expect(r.status, name).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });
});

(chromiumOrSkip('docs page browser test') ? describe : describe.skip)('the docs page in headless Chromium', () => {
  let mounted: Mounted;
  beforeAll(async () => {
    mounted = await startMount('express5', { parsed: true, prefix: '/ai', options: {} });
  });
  afterAll(async () => {
    await mounted?.close();
  });

  it('renders offline: every request stays on localhost, no CSP violation or script error, the memory endpoints are listed', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const offsite: string[] = [];
      const requested: string[] = [];
      const problems: string[] = [];
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') {
          requested.push(url.pathname);
          return route.continue();
        }
        offsite.push(url.href);
        return route.abort();
      });
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('requestfailed', (req) => problems.push(`failed: ${req.url()}`));

      const res = await page.goto(`${mounted.url}/docs`);
      expect(res?.status()).toBe(200);
      await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
      const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent));
      for (const p of ['/memory/store', '/memory/retrieve', '/memory/list', '/memory/delete', '/memory/user']) expect(paths).toContain(p);
      expect(await page.textContent('.info .title')).toContain('aipaygent');
      // The spec was fetched from this mount, the assets from this mount: nothing else.
      expect(requested).toContain('/ai/openapi.json');
      expect(requested).toContain('/ai/docs/swagger-ui-bundle.js');
      expect(offsite).toEqual([]);
      expect(problems).toEqual([]);

      // Open one operation: its request body schema, from the zod schema, renders too.
      await page.click('#operations-Memory-postMemoryStore .opblock-summary');
      await page.waitForSelector('#operations-Memory-postMemoryStore .opblock-body', { timeout: 10_000 });
      expect(await page.textContent('#operations-Memory-postMemoryStore')).toContain('user_id');

      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/docs.png', fullPage: false });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
