// Helpers of the packaging test: the README's Express quick start as a file, disk usage, a process run until a line appears.
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The code of the README's "## Express quick start" section (its one ts block: plain JavaScript with ESM and top-level await). */
export function expressQuickStart(readme: string): string {
  const start = readme.indexOf('\n## Express quick start\n');
  if (start === -1) throw new Error('README has no "## Express quick start" section');
  const end = readme.indexOf('\n## ', start + 1);
  const blocks = [...readme.slice(start, end).matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1) throw new Error(`the Express quick start should have one ts block, it has ${blocks.length}`);
  return blocks[0]![1]!;
}

/** Bytes of the files under `dir` (symlinks not followed), as `du -sb` counts apparent sizes. */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += diskUsage(path);
    else total += lstatSync(path).size;
  }
  return total;
}

export interface Run {
  child: ChildProcess;
  lines: string[];
  /** The exit code when the process ended before `ready` matched; null while it runs. */
  code: number | null;
}

/** Runs a command until a line of its output matches `ready` (it keeps running), or until it exits; 60 s at most. */
export function runUntil(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp, running: ChildProcess[]): Promise<Run> {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: no line matched ${ready} in 60 s:\n${lines.join('\n')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.some((l) => ready.test(l))) {
        clearTimeout(timer);
        resolve({ child, lines, code: null });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ child, lines, code });
    });
  });
}
