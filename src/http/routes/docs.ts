// The docs page (no auth, free): Swagger UI rendering /openapi.json, its assets served from swagger-ui-dist through the mount (no CDN).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { AipaygentError } from '../../errors.js';
import { ok } from '../openapi-schemas.js';
import { route, type Route } from '../route.js';
import type { CoreRequest, CoreResponse } from '../types.js';

/**
 * Only our own files run: no inline script or style, nothing from another origin. Swagger UI's
 * icons are data: URIs, and "Try it out" calls this same origin.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = { 'content-security-policy': DOCS_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** Starts Swagger UI on the spec named by the page; a file, because the CSP allows no inline script. */
const INIT_SCRIPT = `// aipaygent docs: Swagger UI on this mount's /openapi.json
window.addEventListener('load', function () {
  var node = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: node.getAttribute('data-spec'), domNode: node, deepLinking: true, validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout', defaultModelsExpandDepth: 0,
  });
});
`;

const PAGE_CSS = 'body { margin: 0; background: #fafafa; } .swagger-ui .info { margin: 30px 0 10px; }\n';

interface Asset {
  file?: string;
  text?: string;
  type: string;
}

/** The files the page loads, by the name in its URL. Anything else under /docs/ is a 404. */
const ASSETS: Record<string, Asset> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
  'favicon-32x32.png': { file: 'favicon-32x32.png', type: 'image/png' },
  'docs.js': { text: INIT_SCRIPT, type: 'text/javascript; charset=utf-8' },
  'docs.css': { text: PAGE_CSS, type: 'text/css; charset=utf-8' },
};

export const DOCS_ASSETS = Object.keys(ASSETS);

/**
 * Where the Swagger UI files are: copied into the package at build time (dist/assets/swagger-ui, see
 * scripts/bundle-assets.mjs), so an installed aipaygent needs no swagger-ui-dist; in the repository
 * (sources run by tsx) they come from the swagger-ui-dist dev dependency.
 */
function locateAssets(): { dir: string; version: string } {
  const bundled = fileURLToPath(new URL('../../../assets/swagger-ui/', import.meta.url));
  try {
    return { dir: bundled, version: (JSON.parse(readFileSync(join(bundled, 'version.json'), 'utf8')) as { version: string }).version };
  } catch {
    try {
      const require = createRequire(import.meta.url);
      return { dir: dirname(require.resolve('swagger-ui-dist/package.json')), version: (require('swagger-ui-dist/package.json') as { version: string }).version };
    } catch {
      return { dir: bundled, version: '0' }; // the page loads, its assets answer 500: a broken build, reported by the docs test
    }
  }
}
const assets = locateAssets();
const distDir = () => assets.dir;
const distVersion = assets.version;

const gzipAsync = promisify(gzip);

/** Read once, gzipped once (on the thread pool, not the event loop), kept: a page load must not touch the disk. */
const loaded = new Map<string, Promise<{ raw: Buffer; gzip: Buffer }>>();
function load(name: string, asset: Asset) {
  let p = loaded.get(name);
  if (!p) {
    p = (asset.file ? readFile(join(distDir(), asset.file)) : Promise.resolve(Buffer.from(asset.text!, 'utf8'))).then(async (raw) => ({ raw, gzip: await gzipAsync(raw, { level: 9 }) }));
    // A failed read is retried by the next request, not cached forever.
    p.catch(() => loaded.delete(name));
    loaded.set(name, p);
  }
  return p;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The HTML page; links are absolute under the mount so "/docs" and "/docs/" both work. */
export function docsPage(mountPath: string): string {
  const b = escapeHtml(mountPath);
  const asset = (name: string) => `${b}/docs/${name}?v=${distVersion}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aipaygent API reference</title>
<link rel="icon" type="image/png" href="${asset('favicon-32x32.png')}">
<link rel="stylesheet" href="${asset('swagger-ui.css')}">
<link rel="stylesheet" href="${asset('docs.css')}">
</head>
<body>
<div id="swagger-ui" data-spec="${b}/openapi.json"></div>
<script src="${asset('swagger-ui-bundle.js')}"></script>
<script src="${asset('docs.js')}"></script>
</body>
</html>
`;
}

const acceptsGzip = (req: CoreRequest) => /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

async function serveAsset(name: string, req: CoreRequest): Promise<CoreResponse> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name]! : undefined;
  if (!asset) throw new AipaygentError('not_found', `No docs asset "${name}" (assets: ${DOCS_ASSETS.join(', ')})`);
  const { raw, gzip } = await load(name, asset);
  const zipped = acceptsGzip(req) && gzip.length < raw.length;
  return {
    status: 200,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      // The URL carries the swagger-ui-dist version, so the file under it never changes.
      'cache-control': 'public, max-age=31536000, immutable',
      vary: 'accept-encoding',
      ...(zipped && { 'content-encoding': 'gzip' }),
    },
    body: zipped ? gzip : raw,
  };
}

export function docsRoutes(): Route[] {
  return [
    route({
      method: 'GET', path: '/docs', auth: 'none', metered: false, tags: ['Discovery'],
      summary: 'Interactive API reference (Swagger UI) of /openapi.json, served from this mount with no CDN.',
      responses: { 200: { description: 'The HTML page', media: ['text/html'] } },
      async handle({ req }) {
        return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: docsPage(req.mountPath ?? '') };
      },
    }),
    route({
      method: 'GET', path: '/docs/:asset', auth: 'none', metered: false, tags: ['Discovery'],
      summary: 'A file of the docs page (Swagger UI from the swagger-ui-dist package).',
      description: `Assets: ${DOCS_ASSETS.map((a) => `\`${a}\``).join(', ')}.`,
      responses: { 200: { description: 'The file (CSS, JavaScript or PNG)', media: ['text/css', 'text/javascript', 'image/png'] } },
      errors: ['not_found'],
      handle: ({ params, req }) => serveAsset(params.asset!, req),
    }),
  ];
}
