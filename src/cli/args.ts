// Argument parsing for the CLI (node:util parseArgs), with the one usage error shape and --help on every command.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command's options and positionals, as parseArgs describes them, with the help text printed by --help. */
export interface CommandSpec {
  usage: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** Lines after the usage: what each option means. */
  help?: string[];
}

/** Misuse of the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Parsed = { help: true } | { help: false; values: Record<string, string | boolean | undefined>; positionals: string[] };

export function parse(spec: CommandSpec, argv: string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return { help: true };
    return { help: false, values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message, spec.usage);
  }
}

export function helpText(spec: CommandSpec): string {
  return [`Usage: ${spec.usage}`, '', spec.summary, ...(spec.help?.length ? ['', ...spec.help] : []), ''].join('\n');
}

/** An integer option or positional within [min, max], or a usage error naming it. */
export function integer(value: string | undefined, name: string, usage: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || !(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new UsageError(`${name} must be ${range} (got ${value ?? 'nothing'})`, usage);
  }
  return n;
}
