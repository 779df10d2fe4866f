// Writes one marked section of BENCHMARKS.md, leaving the other sections as they are.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const machine = (): string => `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`;

/** Replaces (or appends) the section `id` of BENCHMARKS.md with `body` under `## title`. */
export function writeSection(id: string, title: string, body: string): void {
  let doc: string;
  try {
    doc = readFileSync('BENCHMARKS.md', 'utf8');
  } catch {
    doc = '# Benchmarks\n\nProduced by `npm run bench`. Speed is reported as ratios measured side by side in one run: absolute numbers on a shared 2-core machine drift.\n';
  }
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `${start}\n## ${title}\n\n${body.trim()}\n${end}`;
  const at = doc.indexOf(start);
  doc = at === -1 ? `${doc.trimEnd()}\n\n${section}\n` : doc.slice(0, at) + section + doc.slice(doc.indexOf(end) + end.length);
  writeFileSync('BENCHMARKS.md', doc);
}

/** The lines of section `id` as BENCHMARKS.md has them now ([] when it has none). */
export function readSection(id: string): string[] {
  let doc: string;
  try {
    doc = readFileSync('BENCHMARKS.md', 'utf8');
  } catch {
    return [];
  }
  const start = doc.indexOf(`<!-- bench:${id}:start -->`);
  const end = doc.indexOf(`<!-- bench:${id}:end -->`);
  return start === -1 || end === -1 ? [] : doc.slice(start, end).split('\n');
}
