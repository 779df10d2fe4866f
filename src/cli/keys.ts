// `aipaygent keys create|list|revoke` and `aipaygent credits grant`: the operator's commands, through an admin door.
import { integer, parse, UsageError, type CommandSpec } from './args.js';
import { DoorError, openDoor, type AdminDoor } from './admin-door.js';
import type { Io } from './io.js';

const TARGET = {
  url: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const TARGET_HELP = [
  'Runs in process on the store of AIPAYGENT_STORE (redis://, redis-cluster://, postgres://, sqlite://), or with --url against',
  "a running server's admin API (AIPAYGENT_URL also works; the admin token comes from AIPAYGENT_ADMIN_TOKEN).",
  '  --url <base>     the server, e.g. http://localhost:3000 (with its mount prefix, e.g. …/ai)',
  '  --json           print JSON instead of text',
];

export const KEY_COMMANDS: Record<string, CommandSpec> = {
  create: {
    usage: 'aipaygent keys create [--account <acct_…>] [--label <text>] [--url <base>] [--json]',
    summary: 'Creates an API key, for a new account or for --account. The key is printed once: store it.',
    options: { ...TARGET, account: { type: 'string' }, label: { type: 'string' } },
    help: ['  --account <id>   add the key to this existing account', '  --label <text>   a note for you (shown by keys list)', ...TARGET_HELP],
  },
  list: {
    usage: 'aipaygent keys list --account <acct_…> [--url <base>] [--json]',
    summary: "Lists an account's API keys (never their secrets).",
    options: { ...TARGET, account: { type: 'string' } },
    help: TARGET_HELP,
  },
  revoke: {
    usage: 'aipaygent keys revoke <key_id> [--url <base>] [--json]',
    summary: 'Revokes an API key at once, in every process sharing the store.',
    options: TARGET,
    help: TARGET_HELP,
  },
};

export const GRANT: CommandSpec = {
  usage: 'aipaygent credits grant <account_id> <amount_micro_usd> --reason <text> [--reference <id>] [--url <base>] [--json]',
  summary: 'Adds credit to an account (1 USD = 1000000 micro-USD). With --reference, running it again adds nothing.',
  options: { ...TARGET, reason: { type: 'string' }, reference: { type: 'string' } },
  help: ['  --reason <text>     why (the ledger memo)', '  --reference <id>    makes the grant idempotent', ...TARGET_HELP],
};

/** First sentence of a summary, for the list of sub-commands. */
const brief = (spec: CommandSpec) => spec.summary.split('. ')[0]!.replace(/\.$/, '');

/** `aipaygent keys --help`: the sub-commands. */
export const KEYS: CommandSpec = {
  usage: 'aipaygent keys create|list|revoke [options]',
  summary: 'Manages API keys.',
  help: [...Object.entries(KEY_COMMANDS).map(([name, spec]) => `  ${name.padEnd(8)} ${brief(spec)}`), '', 'Run "aipaygent keys <command> --help" for its options.'],
};

/** `aipaygent credits --help`. */
export const CREDITS: CommandSpec = {
  usage: 'aipaygent credits grant [options]',
  summary: "Manages accounts' credit.",
  help: [`  grant    ${brief(GRANT)}`, '', 'Run "aipaygent credits grant --help" for its options.'],
};

/** Runs `run` through the door of `url` (or the store); input the admin API refused (400) is misuse of `spec`. */
async function withDoor<T>(spec: CommandSpec, url: unknown, io: Io, run: (door: AdminDoor) => Promise<T>): Promise<T> {
  const door = await openDoor(typeof url === 'string' ? url : undefined, io.env);
  try {
    return await run(door);
  } catch (error) {
    throw error instanceof DoorError && error.misuse ? new UsageError(error.message, spec.usage) : error;
  } finally {
    await door.close();
  }
}

/** Runs `keys <sub>`; returns the exit code. */
export async function keysCommand(sub: string, argv: string[], io: Io): Promise<number> {
  const spec = KEY_COMMANDS[sub]!;
  const p = parse(spec, argv);
  if (p.help) return io.help(spec);
  const { values, positionals } = p;
  const json = values.json === true;
  if (sub === 'create') {
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`, spec.usage);
    const created = await withDoor(spec, values.url, io, (d) => d.createKey({ accountId: values.account as string | undefined, label: values.label as string | undefined }));
    io.out(json ? JSON.stringify(created) : `api key (shown once): ${created.api_key}\nkey id: ${created.key_id}\naccount: ${created.account_id}`);
  } else if (sub === 'list') {
    if (typeof values.account !== 'string') throw new UsageError('--account is required', spec.usage);
    const keys = await withDoor(spec, values.url, io, (d) => d.listKeys(values.account as string));
    io.out(json ? JSON.stringify(keys) : keys.map((k) => `${k.key_id}  ${k.status.padEnd(7)}  created ${k.created_at}${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}  ${k.label}`).join('\n'));
  } else {
    const [keyId, extra] = positionals;
    if (!keyId || extra) throw new UsageError('give exactly one key id (key_…)', spec.usage);
    await withDoor(spec, values.url, io, (d) => d.revokeKey(keyId));
    io.out(json ? JSON.stringify({ key_id: keyId, revoked: true }) : `revoked ${keyId}`);
  }
  return 0;
}

/** Runs `credits grant`; returns the exit code. */
export async function grantCommand(argv: string[], io: Io): Promise<number> {
  const p = parse(GRANT, argv);
  if (p.help) return io.help(GRANT);
  const { values, positionals } = p;
  const [accountId, amount, extra] = positionals;
  if (!accountId || extra) throw new UsageError('give an account id and an amount in micro-USD', GRANT.usage);
  const amountMicroUsd = integer(amount, 'amount_micro_usd', GRANT.usage, { min: 1 });
  if (typeof values.reason !== 'string' || values.reason === '') throw new UsageError('--reason is required', GRANT.usage);
  const input = { accountId, amountMicroUsd, reason: values.reason, reference: values.reference as string | undefined };
  const r = await withDoor(GRANT, values.url, io, (d) => d.grant(input));
  io.out(values.json === true ? JSON.stringify(r) : `${r.granted ? 'granted' : 'already granted (same reference): nothing added'}; balance ${r.balance_usd} USD (${r.balance_micro_usd} micro-USD)`);
  return 0;
}
