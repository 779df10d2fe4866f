// `npm run check:package`: publint and arethetypeswrong on the packed package, packed into a temporary directory,
// so that no file of the working tree is created, overwritten or deleted (a tarball the user made stays theirs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'apg-check-package-'));
try {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  // Built just above: the prepack script (the same build) is skipped; the tarball goes only into `dir`.
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  execFileSync(bin('publint'), ['--strict', join(dir, packed.filename)], { cwd: root, stdio: 'inherit' });
  execFileSync(bin('attw'), [join(dir, packed.filename), '--profile', 'esm-only'], { cwd: root, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
