// `aipaygent keys create|list|revoke` and `aipaygent credits grant`: the operator's commands, through an admin door.
import { integer, parse, UsageError, type CommandSpec } from './args.js';
import { SCOPES } from '../keys/scopes.js';
import { DoorError, openDoor, type AdminDoor, type KeyRow } from './admin-door.js';
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
    usage: 'aipaygent keys create [--account <acct_…>] [--label <text>] [--scopes <list>] [--expires <when>] [--daily-cap <micro_usd>] [--monthly-cap <micro_usd>] [--url <base>] [--json]',
    summary: 'Creates an API key, for a new account or for --account. The key is printed once: store it.',
    options: {
      ...TARGET, account: { type: 'string' }, label: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' },
      'daily-cap': { type: 'string' }, 'monthly-cap': { type: 'string' },
    },
    help: [
      '  --account <id>   add the key to this existing account',
      '  --label <text>   a note for you (shown by keys list)',
      `  --scopes <list>  what the key may call, comma-separated: ${SCOPES.join(', ')} (default: everything)`,
      '  --expires <when> when the key stops working: an ISO 8601 date-time, or a time from now such as 30d, 12h, 90m',
      '  --daily-cap <n>  what the key may spend per UTC day, in micro-USD (default: the server\'s spendCaps)',
      '  --monthly-cap <n> the same per UTC month',
      ...TARGET_HELP,
    ],
  },
  list: {
    usage: 'aipaygent keys list --account <acct_…> [--url <base>] [--json]',
    summary: "Lists an account's API keys (never their secrets).",
    options: { ...TARGET, account: { type: 'string' } },
    help: TARGET_HELP,
  },
  rotate: {
    usage: 'aipaygent keys rotate <key_id> [--grace <seconds>] [--url <base>] [--json]',
    summary: 'Replaces an API key with a new one (same account, label, scopes and expiry), printed once; the old key keeps working for the grace period.',
    options: { ...TARGET, grace: { type: 'string' } },
    help: ["  --grace <s>      seconds the old key keeps working (default: the server's keys.rotationGraceSeconds, 86400; 0: it stops now)", ...TARGET_HELP],
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
  usage: 'aipaygent keys create|list|revoke|rotate [options]',
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

/** `--expires`: an ISO 8601 date-time as is, or a time from now ("30d", "12h", "90m", "45s"). */
function expiryTime(when: string): string {
  const m = /^(\d{1,6})([smhd])$/.exec(when);
  if (!m) return when; // the admin API checks it (a 400 becomes a usage error)
  return new Date(Date.now() + Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's']! * 1000).toISOString();
}

/** The scopes and expiry of a new key, when it has limits. */
const limits = (k: { scopes: string[]; expires_at: string | null; daily_spend_cap_micro_usd: number | null; monthly_spend_cap_micro_usd: number | null }) =>
  `${k.scopes.length < SCOPES.length ? `\nscopes: ${k.scopes.join(', ')}` : ''}${k.expires_at ? `\nexpires: ${k.expires_at}` : ''}` +
  `${k.daily_spend_cap_micro_usd !== null ? `\ndaily spend cap: ${k.daily_spend_cap_micro_usd} micro-USD` : ''}` +
  `${k.monthly_spend_cap_micro_usd !== null ? `\nmonthly spend cap: ${k.monthly_spend_cap_micro_usd} micro-USD` : ''}`;

/** A micro-USD amount flag: a non-negative integer, else misuse. */
function microUsd(flag: string, raw: unknown, usage: string): number | undefined {
  if (typeof raw !== 'string') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new UsageError(`${flag} must be a whole number of micro-USD (1 USD = 1000000), got "${raw}"`, usage);
  return Number(raw);
}

/** One key of `keys list`: id, status, dates, limits (only when it has some), label. */
function keyLine(k: KeyRow): string {
  const dates = `created ${k.created_at}${k.expires_at ? `  ${k.status === 'expired' ? 'expired' : 'expires'} ${k.expires_at}` : ''}${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}`;
  const more = `${k.scopes.length < SCOPES.length ? `  scopes ${k.scopes.join(',')}` : ''}${k.rotated_to ? `  rotated to ${k.rotated_to}` : ''}`;
  return `${k.key_id}  ${k.status.padEnd(7)}  ${dates}${more}  ${k.label}`;
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
    const input = {
      accountId: values.account as string | undefined, label: values.label as string | undefined,
      scopes: typeof values.scopes === 'string' ? values.scopes.split(',').map((x) => x.trim()) : undefined,
      expiresAt: typeof values.expires === 'string' ? expiryTime(values.expires) : undefined,
      dailyCap: microUsd('--daily-cap', values['daily-cap'], spec.usage), monthlyCap: microUsd('--monthly-cap', values['monthly-cap'], spec.usage),
    };
    const created = await withDoor(spec, values.url, io, (d) => d.createKey(input));
    io.out(json ? JSON.stringify(created) : `api key (shown once): ${created.api_key}\nkey id: ${created.key_id}\naccount: ${created.account_id}${limits(created)}`);
  } else if (sub === 'list') {
    if (typeof values.account !== 'string') throw new UsageError('--account is required', spec.usage);
    const keys = await withDoor(spec, values.url, io, (d) => d.listKeys(values.account as string));
    io.out(json ? JSON.stringify(keys) : keys.map(keyLine).join('\n'));
  } else if (sub === 'rotate') {
    const [keyId, extra] = positionals;
    if (!keyId || extra) throw new UsageError('give exactly one key id (key_…)', spec.usage);
    const grace = values.grace === undefined ? undefined : integer(values.grace as string, '--grace', spec.usage, { max: 31_536_000 });
    const r = await withDoor(spec, values.url, io, (d) => d.rotateKey(keyId, grace));
    io.out(json ? JSON.stringify(r) : `api key (shown once): ${r.api_key}\nkey id: ${r.key_id}\naccount: ${r.account_id}${limits(r)}\n${keyId} stops working at ${r.old_key_expires_at}`);
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
