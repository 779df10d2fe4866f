// The `aipaygent` command line: serve, keys, credits and doctor, each with --help; exit code 2 for misuse, 1 for a failure.
import { PACKAGE_VERSION } from '../http/routes/discovery.js';
import { StartupError } from '../optional.js';
import { UsageError } from './args.js';
import { DoorError } from './admin-door.js';
import { doctorCommand } from './doctor.js';
import type { Io } from './io.js';
import { CREDITS, grantCommand, KEY_COMMANDS, KEYS, keysCommand } from './keys.js';
import { serveCommand } from './serve.js';

const HELP = `Usage: aipaygent <command> [options]

Commands:
  serve                     run the standalone server (configured by AIPAYGENT_* variables)
  keys create|list|rotate|revoke
                            manage API keys
  credits grant             add credit to an account
  doctor                    check the configuration, packages, store, Claude upstream and chain RPC

Run "aipaygent <command> --help" for a command's options. Version ${PACKAGE_VERSION}.
`;

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/** Runs one command line; resolves with the exit code (serve resolves only if it could not start). */
export async function run(argv: string[], io: Io): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(argv.slice(1), io);
      case 'doctor':
        return await doctorCommand(argv.slice(1), io);
      case 'keys':
        if (sub && Object.hasOwn(KEY_COMMANDS, sub)) return await keysCommand(sub, rest, io);
        if (isHelp(sub)) return io.help(KEYS);
        throw new UsageError(sub ? `unknown keys command "${sub}"` : 'keys needs a command', KEYS.usage);
      case 'credits':
        if (sub === 'grant') return await grantCommand(rest, io);
        if (isHelp(sub)) return io.help(CREDITS);
        throw new UsageError(sub ? `unknown credits command "${sub}"` : 'credits needs a command', CREDITS.usage);
      case '--version':
      case '-v':
        io.out(PACKAGE_VERSION);
        return 0;
      case 'help':
        // `aipaygent help keys create` is `aipaygent keys create --help`.
        if (sub !== undefined) return await run([...argv.slice(1), '--help'], io);
        io.out(HELP);
        return 0;
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      case undefined:
        // No command is misuse: the overview goes where errors go, so that `aipaygent | …` does not take it for output.
        io.err(HELP);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"`, 'aipaygent serve|keys|credits|doctor [--help]');
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`aipaygent: ${error.message}\nUsage: ${error.usage}`);
      return 2;
    }
    // One line a person can act on: startup faults, refusals, configuration errors. Anything else is a bug: its stack helps.
    if (error instanceof StartupError) io.err(error.message);
    else if (error instanceof DoorError) io.err(`aipaygent: ${error.message}`);
    else if (error instanceof TypeError && error.message.startsWith('aipaygent: invalid options')) io.err(error.message);
    else io.err(`aipaygent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}
