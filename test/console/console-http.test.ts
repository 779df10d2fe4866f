// GET /console over HTTP on every mount: the page (strict CSP, links under the mount, no inline script), its assets, and the 404 when no admin token is set.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ASSETS, CONSOLE_CSP } from '../../src/http/routes/console.js';
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

const PAGE_SOURCES = new URL('../../src/console/browser/', import.meta.url);

describeMounts('GET /console', () => ({}), (m: () => Mounted) => {
  it('serves the page with a strict CSP, no inline script or style, every link under the mount', async () => {
    for (const path of ['/console', '/console/']) {
      const r = await call(m().url + path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.text).toContain(`data-base="${m().prefix}"`);
      expect(r.text).toContain(`<script type="module" src="${m().prefix}/console/main.js">`);
      expect(r.text).toMatch(new RegExp(`<script src="${m().prefix}/console/uplot\\.js\\?v=1\\.6\\.\\d+" defer>`));
      // Nothing runs but our files; nothing is fetched from elsewhere; no style attribute for the CSP to refuse.
      expect(r.text).not.toMatch(/<script>|<style|\sstyle=|https?:\/\/|\son[a-z]+=/);
      for (const src of r.text.matchAll(/(?:src|href)="([^"]+)"/g)) if (!src[1]!.startsWith('#') && src[1] !== 'data:,') expect(src[1]).toMatch(new RegExp(`^${m().prefix}/console/`));
    }
  });

  it('serves each asset with its type, gzipped when asked; uPlot cached for good under its version, the page modules revalidated by ETag', async () => {
    for (const name of CONSOLE_ASSETS) {
      const plain = await rawGet(`${m().url}/console/${name}`);
      expect(plain.status, name).toBe(200);
      expect(plain.headers['content-type']).toMatch(name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(plain.headers['content-security-policy']).toBe(CONSOLE_CSP);
      const zipped = await rawGet(`${m().url}/console/${name}`, { 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
      if (name.startsWith('uplot')) {
        expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      } else {
        expect(plain.headers['cache-control']).toBe('no-cache');
        expect(plain.body.equals(readFileSync(new URL(name, PAGE_SOURCES))), `${name} is served as written`).toBe(true);
        const again = await rawGet(`${m().url}/console/${name}`, { 'if-none-match': plain.headers.etag });
        expect(again.status).toBe(304);
        expect(again.body.length).toBe(0);
      }
    }
    const uplot = await rawGet(`${m().url}/console/uplot.js`);
    expect(uplot.body.toString('utf8', 0, 80)).toMatch(/uPlot \(v1\.6\.\d+\)/);
  });

  it('every page module the console imports is an asset it serves', () => {
    for (const name of CONSOLE_ASSETS.filter((n) => n.endsWith('.js') && !n.startsWith('uplot'))) {
      const source = readFileSync(new URL(name, PAGE_SOURCES), 'utf8');
      for (const imported of source.matchAll(/from '\.\/([^']+)'/g)) expect(CONSOLE_ASSETS, `${name} imports ${imported[1]}`).toContain(imported[1]);
      expect(source.split('\n').length, `${name} is under 300 lines`).toBeLessThan(300);
    }
  });

  it('anything else under /console/ is a precise 404, never a file of the disk', async () => {
    for (const name of ['nope.js', 'tsconfig.json', 'package.json', '..%2Fpackage.json', '%2e%2e%2fmain.js', 'uPlot.iife.min.js', 'LICENSE', '__proto__', 'constructor']) {
      const r = await call(`${m().url}/console/${name}`);
      expect(r.status, name).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('is in the OpenAPI document with the admin routes', async () => {
    const spec = (await call(`${m().url}/openapi.json`)).body;
    expect(spec.paths['/console'].get.tags).toEqual(['Admin']);
    expect(Object.keys(spec.paths['/console/{asset}'].get.responses)).toEqual(expect.arrayContaining(['200', '304', '404']));
  });
});

describe('GET /console without an admin token', () => {
  let mounted: Mounted;
  beforeAll(async () => {
    mounted = await startMount('express5', { parsed: true, prefix: '/ai', options: { adminToken: undefined } });
  });
  afterAll(() => mounted?.close());

  it('answers 404 naming the option that turns it on, for the page and its assets, and is not documented', async () => {
    for (const path of ['/console', '/console/main.js', '/console/uplot.js']) {
      const r = await call(mounted.url + path);
      expect(r.status, path).toBe(404);
      expect(r.body.error.message).toMatch(/The console is not enabled on this server; its operator turns it on with the adminToken option \(AIPAYGENT_ADMIN_TOKEN/);
    }
    const spec = (await call(`${mounted.url}/openapi.json`)).body;
    expect(spec.paths['/console']).toBeUndefined();
  });
});
