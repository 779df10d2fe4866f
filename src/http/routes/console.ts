// The operator's console (served when an admin token is set): a page that reads the admin API with the token typed into it; its files served through the mount (no CDN).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { AipaygentError } from '../../errors.js';
import { route, type Route } from '../route.js';
import type { CoreRequest, CoreResponse } from '../types.js';

/**
 * Only our own files run (no inline script or style, nothing from another origin); the page talks to
 * this origin only. uPlot styles its elements through the CSSOM (`el.style`), which style-src allows.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
};

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface Asset {
  /** Where the file is: the page's own sources, or the uPlot package. */
  from: 'console' | 'uplot';
  file: string;
  type: string;
}

/** The files the page loads, by the name in its URL. Anything else under /console/ is a 404. */
const ASSETS: Record<string, Asset> = {
  'uplot.js': { from: 'uplot', file: 'uPlot.iife.min.js', type: JS },
  'uplot.css': { from: 'uplot', file: 'uPlot.min.css', type: CSS },
  'console.css': { from: 'console', file: 'console.css', type: CSS },
  'main.js': { from: 'console', file: 'main.js', type: JS },
  'api.js': { from: 'console', file: 'api.js', type: JS },
  'dom.js': { from: 'console', file: 'dom.js', type: JS },
  'charts.js': { from: 'console', file: 'charts.js', type: JS },
  'overview.js': { from: 'console', file: 'overview.js', type: JS },
  'usage.js': { from: 'console', file: 'usage.js', type: JS },
  'accounts.js': { from: 'console', file: 'accounts.js', type: JS },
  'account.js': { from: 'console', file: 'account.js', type: JS },
  'key-actions.js': { from: 'console', file: 'key-actions.js', type: JS },
};

export const CONSOLE_ASSETS = Object.keys(ASSETS);

/**
 * Where the files are: copied into the package at build time (dist/assets/console and dist/assets/uplot,
 * see scripts/bundle-assets.mjs), so an installed aipaygent needs no uplot; in the repository (sources run
 * by tsx) the page's sources are read from src/console/browser and uPlot from its dev dependency.
 */
function locate(): { console: string; uplot: string; uplotVersion: string } {
  const bundled = fileURLToPath(new URL('../../../assets/', import.meta.url));
  if (existsSync(join(bundled, 'uplot', 'version.json'))) {
    const { version } = JSON.parse(readFileSync(join(bundled, 'uplot', 'version.json'), 'utf8')) as { version: string };
    return { console: join(bundled, 'console'), uplot: join(bundled, 'uplot'), uplotVersion: version };
  }
  const source = fileURLToPath(new URL('../../console/browser/', import.meta.url));
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('uplot/package.json');
    return { console: source, uplot: join(dirname(pkg), 'dist'), uplotVersion: (require(pkg) as { version: string }).version };
  } catch {
    return { console: source, uplot: join(bundled, 'uplot'), uplotVersion: '0' }; // uPlot's files answer 500: a broken build, the console test says so
  }
}
const dirs = locate();

const gzipAsync = promisify(gzip);

interface Loaded {
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

/** Read once, gzipped once (on the thread pool), kept: a page load must not touch the disk. */
const loaded = new Map<string, Promise<Loaded>>();
function load(name: string, asset: Asset): Promise<Loaded> {
  let p = loaded.get(name);
  if (!p) {
    p = readFile(join(asset.from === 'uplot' ? dirs.uplot : dirs.console, asset.file)).then(async (raw) => ({
      raw,
      gzip: await gzipAsync(raw, { level: 9 }),
      etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
    }));
    // A failed read is retried by the next request, not cached forever.
    p.catch(() => loaded.delete(name));
    loaded.set(name, p);
  }
  return p;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page: a skeleton with landmarks; the views are built by main.js. Links are absolute under the mount. */
export function consolePage(mountPath: string): string {
  const b = escapeHtml(mountPath);
  const asset = (name: string) => `${b}/console/${name}${ASSETS[name]!.from === 'uplot' ? `?v=${dirs.uplotVersion}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>aipaygent console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset('uplot.css')}">
<link rel="stylesheet" href="${asset('console.css')}">
<script src="${asset('uplot.js')}" defer></script>
<script type="module" src="${asset('main.js')}"></script>
</head>
<body data-base="${b}">
<header class="top">
<p class="brand"><a href="#/">aipaygent console</a></p>
<nav aria-label="Console" id="nav" hidden><ul><li><a href="#/">Overview</a></li></ul></nav>
<button type="button" id="sign-out" class="quiet" hidden>Sign out</button>
</header>
<main id="main" tabindex="-1">
<noscript><p>The console needs JavaScript.</p></noscript>
<p id="loading">Loading…</p>
</main>
<div id="announce" class="sr-only" role="status" aria-live="polite"></div>
<footer class="foot"><p>Figures from the admin API of this server. Money in USD (micro-USD in the API).</p></footer>
</body>
</html>
`;
}

const acceptsGzip = (req: CoreRequest) => /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

async function serveAsset(name: string, req: CoreRequest): Promise<CoreResponse> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name]! : undefined;
  if (!asset) throw new AipaygentError('not_found', `No console asset "${name}" (assets: ${CONSOLE_ASSETS.join(', ')})`);
  const { raw, gzip, etag } = await load(name, asset);
  // uPlot's URL carries its version, so the file under it never changes; the page's own modules import
  // each other by plain names, so they are revalidated on each load (a 304 when unchanged).
  const caching: Record<string, string> = asset.from === 'uplot' ? { 'cache-control': 'public, max-age=31536000, immutable' } : { 'cache-control': 'no-cache', etag };
  if (asset.from === 'console' && String(req.headers['if-none-match'] ?? '').split(/\s*,\s*/).includes(etag)) return { status: 304, headers: { ...SECURITY_HEADERS, ...caching, vary: 'accept-encoding' }, body: null };
  const zipped = acceptsGzip(req) && gzip.length < raw.length;
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': asset.type, ...caching, vary: 'accept-encoding', ...(zipped && { 'content-encoding': 'gzip' }) },
    body: zipped ? gzip : raw,
  };
}

const DESCRIPTION =
  'The page asks for the admin token and keeps it in `sessionStorage` (never in a URL); it reads only the admin API ' +
  '(`/admin/usage`, `/admin/accounts`, `/admin/keys`, `/admin/credits`) of this mount. Served only when an admin token is set.';

export function consoleRoutes(): Route[] {
  return [
    route({
      method: 'GET', path: '/console', auth: 'none', metered: false, tags: ['Admin'],
      summary: "The operator's console: revenue and calls over time, accounts, keys, ledger; create, rotate and revoke keys, grant credit.",
      description: DESCRIPTION,
      responses: { 200: { description: 'The HTML page', media: ['text/html'] } },
      async handle({ req }) {
        return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: consolePage(req.mountPath ?? '') };
      },
    }),
    route({
      method: 'GET', path: '/console/:asset', auth: 'none', metered: false, tags: ['Admin'],
      summary: 'A file of the console page (its own scripts and styles, and uPlot from the uplot package).',
      description: `Assets: ${CONSOLE_ASSETS.map((a) => `\`${a}\``).join(', ')}.`,
      responses: { 200: { description: 'The file (CSS or JavaScript)', media: ['text/css', 'text/javascript'] }, 304: { description: 'Not modified (the ETag sent in If-None-Match)' } },
      errors: ['not_found'],
      handle: ({ params, req }) => serveAsset(params.asset!, req),
    }),
  ];
}
