// What a CLI command reads and writes: the environment and two output lines, so that tests can run commands in process.
import type { AipaygentOptions } from '../config.js';
import { optionsFromEnv } from '../env.js';
import { StartupError } from '../optional.js';
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

/** The options of the AIPAYGENT_* variables; a bad variable is a StartupError, printed as one line (never a stack). */
export function envOptions(env: NodeJS.ProcessEnv): AipaygentOptions {
  try {
    return optionsFromEnv(env);
  } catch (error) {
    throw new StartupError(`aipaygent: ${(error as Error).message}`, error);
  }
}
