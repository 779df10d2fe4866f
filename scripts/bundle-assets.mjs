// Build step: copies the browser assets the pages serve (Swagger UI for /docs) from their npm packages into dist/assets,
// so the published package serves them with no runtime dependency on those packages (and none of their install scripts).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const out = new URL('../dist/assets/', import.meta.url).pathname;

const swagger = dirname(require.resolve('swagger-ui-dist/package.json'));
const target = join(out, 'swagger-ui');
mkdirSync(target, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE']) copyFileSync(join(swagger, file), join(target, file));
const { version } = JSON.parse(readFileSync(join(swagger, 'package.json'), 'utf8'));
// The docs route reads the version for its cache-busting URLs; the license files travel with the code (Apache-2.0).
writeFileSync(join(target, 'version.json'), `${JSON.stringify({ package: 'swagger-ui-dist', version })}\n`);
console.error(`assets: swagger-ui-dist ${version} -> dist/assets/swagger-ui`);
