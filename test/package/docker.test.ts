// The README's Dockerfile, built with the packed package and run, where a Docker engine is usable (none is on the machine
// this project is tested on: `docker --version` answers there, but `docker info` cannot reach an engine, so this skips).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const usable = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
if (!usable) console.warn('docker: no usable engine here; the README Dockerfile test is skipped (documented as untested)');

/** The README's dockerfile block, installing the packed package instead of the registry's. */
function dockerfile(tarball: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /^```dockerfile\n([\s\S]*?)^```$/m.exec(readme);
  if (!block) throw new Error('README has no dockerfile block');
  expect(block[1]).toContain('npm install --omit=dev aipaygent ');
  return block[1]!.replace('WORKDIR /app\n', `WORKDIR /app\nCOPY ${tarball} /tmp/\n`).replace('npm install --omit=dev aipaygent ', `npm install --omit=dev /tmp/${tarball} `);
}

describe.skipIf(!usable)('the README Dockerfile', () => {
  it('builds with the packed package, and the container serves /healthz and the article\'s store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apg-docker-'));
    const tag = `aipaygent-readme-test:${Date.now()}`;
    try {
      const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 << 20 });
      const { filename } = (JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>)[0]!;
      writeFileSync(join(dir, 'Dockerfile'), dockerfile(filename));
      await exec('docker', ['build', '-t', tag, dir], { maxBuffer: 64 << 20 });
      const { stdout: id } = await exec('docker', ['run', '-d', '-p', '127.0.0.1::3000', '-e', 'AIPAYGENT_ADMIN_TOKEN=docker-test-admin-token-01', tag]);
      try {
        const { stdout: port } = await exec('docker', ['port', id.trim(), '3000']);
        const base = `http://${port.trim().split('\n')[0]}`;
        let health = 0;
        for (let i = 0; i < 100 && health !== 200; i++) {
          health = await fetch(`${base}/healthz`).then((r) => r.status, () => 0);
          if (health !== 200) await new Promise((r) => setTimeout(r, 200));
        }
        expect(health).toBe(200);
        const created = await (await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: 'Bearer docker-test-admin-token-01' } })).json() as { api_key: string };
        const stored = await fetch(`${base}/memory/store`, {
          method: 'POST', headers: { authorization: `Bearer ${created.api_key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' } }),
        });
        expect(stored.status).toBe(200);
      } finally {
        await exec('docker', ['rm', '-f', id.trim()]);
      }
    } finally {
      await exec('docker', ['rmi', '-f', tag]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
