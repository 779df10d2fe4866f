// What a CLI command reads and writes: the environment and two output lines, so that tests can run commands in process.
import { helpText, type CommandSpec } from './args.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
  /** Prints the command's help; returns exit code 0. */
  help(spec: CommandSpec): number;
}

export function processIo(): Io {
  const io: Io = {
    env: process.env,
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    help: (spec) => {
      io.out(helpText(spec));
      return 0;
    },
  };
  return io;
}
