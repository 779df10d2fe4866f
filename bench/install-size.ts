// `node .bench/bench/install-size.js`: node_modules of a fresh host app per feature set (the packed package + Express 5 + the
// feature's optional packages), installed as a user would (from the npm cache where it has them), recorded in BENCHMARKS.md.
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { machine, writeSection } from './report.js';

const exec = promisify(execFile);

/** Each feature set and the packages it adds to `aipaygent` + `express`. */
const SETS: Array<{ name: string; packages: string[] }> = [
  { name: 'memory only (in-memory store)', packages: [] },
  { name: '+ Redis store', packages: ['@keyv/redis@5'] },
  { name: '+ Postgres store', packages: ['pg@8'] },
  { name: '+ SQLite store (install script not run)', packages: ['better-sqlite3@12'] },
  { name: '+ Claude proxy', packages: ['@anthropic-ai/sdk@1'] },
  { name: '+ USDC payments / x402', packages: ['viem@2'] },
  { name: '+ OpenTelemetry API', packages: ['@opentelemetry/api@1'] },
  { name: '+ MCP endpoint', packages: ['@modelcontextprotocol/sdk@1'] },
  { name: 'everything', packages: ['@keyv/redis@5', 'pg@8', 'better-sqlite3@12', '@anthropic-ai/sdk@1', 'viem@2', '@opentelemetry/api@1', '@modelcontextprotocol/sdk@1'] },
];

function bytesOf(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    bytes += e.isDirectory() ? bytesOf(p) : lstatSync(p).size;
  }
  return bytes;
}

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const dir = mkdtempSync(join(tmpdir(), 'apg-install-size-'));
try {
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { env, maxBuffer: 16 << 20 });
  const { filename } = (JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>)[0]!;
  const rows: string[] = [];
  for (const set of SETS) {
    const app = join(dir, `app-${rows.length}`);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'host', private: true, type: 'module' }));
    // --ignore-scripts: better-sqlite3's native build adds its compiled module (a few MB) on top of the figure.
    await exec('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename), 'express@5', ...set.packages], { cwd: app, env, maxBuffer: 64 << 20 });
    const bytes = bytesOf(join(app, 'node_modules'));
    const { stdout: list } = await exec('npm', ['ls', '--all', '--parseable'], { cwd: app, env, maxBuffer: 16 << 20 }).catch((e: { stdout: string }) => e);
    const packages = new Set(list.split('\n').filter((l) => l.includes('node_modules'))).size;
    rows.push(`| ${set.name} | ${(bytes / 1e6).toFixed(1)} MB | ${packages} |`);
    console.log(rows.at(-1));
  }
  writeSection('install-size', 'Install size of a host app, per feature set', [
    `Command: \`npm run bench:build && node .bench/bench/install-size.js\` (npm pack, then a fresh app per row: \`npm install <tarball> express@5 <packages>\`). Machine: ${machine()}. Apparent size of node_modules; packages as \`npm ls --all\` lists them.`,
    '',
    '| feature set (aipaygent + express 5 +) | node_modules | packages |',
    '|---|---|---|',
    ...rows,
    '',
    'Target: a memory-only host app at most 25 MB. No package of any row runs an install script except better-sqlite3 (its native build, skipped here).',
  ].join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
