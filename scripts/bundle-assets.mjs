// Build step: copies the browser assets the pages serve (Swagger UI for /docs, uPlot and the console's own files for /console)
// into dist/assets, so the published package serves them with no runtime dependency on those packages (and none of their install scripts).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const out = new URL('../dist/assets/', import.meta.url).pathname;

/** Copies `files` of `from` into dist/assets/<name>, with a version.json the route reads for its cache-busting URLs. */
function bundle(pkg, name, from, files) {
  const target = join(out, name);
  mkdirSync(target, { recursive: true });
  for (const file of files) copyFileSync(join(from, file), join(target, file.split('/').pop()));
  const { version } = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8'));
  writeFileSync(join(target, 'version.json'), `${JSON.stringify({ package: pkg, version })}\n`);
  console.error(`assets: ${pkg} ${version} -> dist/assets/${name}`);
}

// The license files travel with the code (swagger-ui-dist: Apache-2.0; uplot: MIT).
const swagger = dirname(require.resolve('swagger-ui-dist/package.json'));
bundle('swagger-ui-dist', 'swagger-ui', swagger, ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE']);
const uplot = dirname(require.resolve('uplot/package.json'));
bundle('uplot', 'uplot', uplot, ['dist/uPlot.iife.min.js', 'dist/uPlot.min.css', 'LICENSE']);

// The console page's own scripts and styles: plain browser files, served as they are written.
const page = new URL('../src/console/browser/', import.meta.url).pathname;
const target = join(out, 'console');
mkdirSync(target, { recursive: true });
const files = readdirSync(page).filter((f) => /\.(js|css)$/.test(f));
for (const file of files) copyFileSync(join(page, file), join(target, file));
console.error(`assets: src/console/browser (${files.length} files) -> dist/assets/console`);
