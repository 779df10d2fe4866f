// How the Postgres money functions are declared and called: one spec per function gives both its DDL and its call.
import type { TableNames } from './sql-schema.js';

/**
 * A parameter: its name in TS params (`@name`), its SQL type, and whether it may be left out (`DEFAULT NULL`;
 * Postgres wants those last). The PL/pgSQL name is `p_<name>`.
 */
export type Param = readonly [name: string, type: 'text' | 'bigint' | 'bytea' | 'jsonb', optional?: 'optional'];

/**
 * One server-side function. Parameters are typed scalars; the rarely used, open-ended parts (a usage `add` map)
 * are one jsonb. To add an optional parameter later (a spend cap, an outbox row): append it to `params` (it
 * gets `DEFAULT NULL`) and bump FUNCTIONS_VERSION; callers name every argument (`p_x => $1`), so a process
 * still running the previous code keeps calling the new function correctly during a rolling deploy.
 */
export interface FunctionSpec {
  name: string;
  params: readonly Param[];
  /** OUT parameters (`e_*` for a ledger entry: see ENTRY_OUT): the function's single result row. */
  outs: readonly string[];
  /** DECLARE section (without the keyword). */
  declare?: string;
  /** The body between BEGIN and END. */
  body: string;
}

/**
 * Bump when any function's text or signature changes, or when the tables change: a store finding an older
 * version (or none: a schema from before the functions) runs the whole idempotent migration again.
 */
export const FUNCTIONS_VERSION = 2;

/** The SQL name of a function: in the store's own schema, so every prefix has its own functions. */
export const functionName = (namespace: string, name: string): string => `"${namespace}".apg_${name}`;

export function functionDdl(namespace: string, spec: FunctionSpec): string {
  const params = spec.params.map(([n, type, optional]) => `p_${n} ${type}${optional ? ' DEFAULT NULL' : ''}`);
  const outs = spec.outs.map((o) => `OUT ${o}`);
  // Volatile (the default, said out loud): each statement inside then takes a fresh snapshot, so everything after
  // the account's row lock reads the state as other processes committed it (see `lock`).
  return `CREATE OR REPLACE FUNCTION ${functionName(namespace, spec.name)}(${[...params, ...outs].join(', ')})
  LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_bal bigint; v_seq bigint; v_amt bigint; v_hold record; v_released bigint := 0; v_stale boolean;
  ${spec.declare ?? ''}
BEGIN
${spec.body}
END
$fn$`;
}

/** `SELECT * FROM "ns".apg_x(p_a => @a, ...)`: a statement with bound parameters only (see PostgresStore.exec). */
export const functionCall = (namespace: string, spec: FunctionSpec): string =>
  `SELECT * FROM ${functionName(namespace, spec.name)}(${spec.params.map(([n]) => `p_${n} => @${n}`).join(', ')})`;

export const ENTRY_OUTS = [
  'e_seq bigint', 'e_amount bigint', 'e_kind text', 'e_reference text', 'e_memo text', 'e_created_at bigint', 'e_balance_after bigint',
] as const;

/**
 * Takes the account's row lock (creating the row at 0 if missing) and leaves the balance and seq in v_bal and v_seq.
 * Every money function starts with it: concurrent operations on one account queue on this lock, and each later
 * statement (a new snapshot) sees what the previous holder committed. SELECT ... FOR UPDATE returns the row as
 * updated by whoever held the lock before (not this statement's snapshot). `gate`: a condition checked in the
 * same statement (charge's key check); when the row is not returned it is evaluated once more, alone, to tell a
 * refusal (`refused`: what to run, ending in RETURN) from an account that does not exist yet.
 */
export function lock(t: TableNames, gate?: { cond: string; refused: string }): string {
  return `  SELECT balance, seq INTO v_bal, v_seq FROM ${t.accounts} WHERE account = p_account${gate ? ` AND ${gate.cond}` : ''} FOR UPDATE;
  IF NOT FOUND THEN${gate ? `
    IF NOT (${gate.cond}) THEN ${gate.refused} END IF;` : ''}
    -- Two first operations on a new account race on the insert: the loser waits, then locks the winner's row.
    INSERT INTO ${t.accounts} AS x (account, balance, seq) VALUES (p_account, 0, 0)
      ON CONFLICT (account) DO UPDATE SET seq = x.seq WHERE false;
    SELECT balance, seq INTO v_bal, v_seq FROM ${t.accounts} WHERE account = p_account;
  END IF;`;
}

/**
 * After the lock, one statement: whether a hold has expired (v_stale), with the operation's own reads (`reads`:
 * [SQL expression, PL/pgSQL target]) taken in the same statement, since each statement costs more than the reads
 * it makes. Only reads that a release cannot change belong here (charge ids, counters), or reads that the caller
 * makes again after a release (see `release`).
 */
export function probe(t: TableNames, reads: ReadonlyArray<readonly [string, string]> = []): string {
  return `  SELECT EXISTS (SELECT 1 FROM ${t.holds} WHERE account = p_account AND expires_at <= p_now)${reads.map(([e]) => `,
      ${e}`).join('')}
    INTO v_stale${reads.map(([, into]) => `, ${into}`).join('')};`;
}

/** Releases the holds expired at p_now (when the probe found one), oldest first, one 'release' entry each (as the reference store does); then `again`. */
export function release(t: TableNames, again = ''): string {
  return `  IF v_stale THEN
    FOR v_hold IN SELECT hold_id, amount FROM ${t.holds} WHERE account = p_account AND expires_at <= p_now ORDER BY created_seq LOOP
      DELETE FROM ${t.holds} WHERE account = p_account AND hold_id = v_hold.hold_id;
${append(t, 'v_hold.amount', `'release'`, `'hold:' || v_hold.hold_id`, `'hold expired'`, { indent: '      ', report: false })}
      v_released := v_released + 1;
    END LOOP;${again ? `
    ${again}` : ''}
  END IF;`;
}

export const lockAndRelease = (t: TableNames): string => `${lock(t)}\n${probe(t)}\n${release(t)}`;

/**
 * Appends one ledger entry of `amount` (a PL/pgSQL expression, read once) after v_seq and moves v_bal and the
 * account row, in one statement with the operation's other writes (`ctes`: data-modifying CTEs), and (`report`)
 * gives the entry back in the e_* OUT parameters. The caller holds the account lock.
 */
export function append(
  t: TableNames, amount: string, kind: string, reference: string, memo: string,
  { indent = '    ', report = true, ctes = [] }: { indent?: string; report?: boolean; ctes?: readonly string[] } = {},
): string {
  const lines = [
    `v_amt := ${amount};`,
    'v_seq := v_seq + 1;',
    'v_bal := v_bal + v_amt;',
    `WITH l AS (INSERT INTO ${t.ledger} (account, seq, amount, kind, reference, memo, created_at, balance_after)`,
    `    VALUES (p_account, v_seq, v_amt, ${kind}, ${reference}, ${memo}, p_now, v_bal))${ctes.map((c) => `,\n  ${c}`).join('')}`,
    `UPDATE ${t.accounts} SET balance = v_bal, seq = v_seq WHERE account = p_account;`,
  ];
  if (report) {
    lines.push(`e_seq := v_seq; e_amount := v_amt; e_kind := ${kind}; e_reference := ${reference}; e_memo := ${memo};`);
    lines.push('e_created_at := p_now; e_balance_after := v_bal;');
  }
  return lines.join('\n').split('\n').map((line) => indent + line).join('\n');
}

/** The usage parameters of a function that counts (see UsageInput): a null bucket means "not counted". */
export const USAGE_PARAMS: readonly Param[] = [['u_bucket', 'text'], ['u_expires', 'bigint'], ['u_add', 'jsonb']];

/**
 * A data-modifying CTE adding to the account's counters of bucket p_u_bucket (none when it is null) what the
 * function decided (`counts`: [counter, PL/pgSQL expression], each non-zero, e.g. ['spent', 'p_price']) and, with
 * `add`, the caller's p_u_add (a jsonb object). Rows are upserted in counter-name order (two operations adding to
 * the same counters lock their rows in the same order), each once: with `add`, summed per counter first. A bucket
 * row past its expiry starts over.
 */
export function usageCte(t: TableNames, counts: ReadonlyArray<readonly [string, string]>, add: boolean): string {
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  const values = sorted.map(([f, v]) => `('${f}', (${v})::bigint)`).join(', ');
  const rows = !add ? `(VALUES ${values})` : `(${values ? `VALUES ${values} UNION ALL ` : ''}SELECT key, value::bigint FROM jsonb_each_text(p_u_add))`;
  return `us AS (INSERT INTO ${t.usage} AS c (account, bucket, field, value, expires_at)
    SELECT p_account, p_u_bucket, x.f, ${add ? 'sum(x.v)' : 'x.v'}, p_u_expires FROM ${rows} x(f, v) WHERE p_u_bucket IS NOT NULL
    ${add ? 'GROUP BY x.f ' : ''}ORDER BY x.f
    ON CONFLICT (account, bucket, field) DO UPDATE SET
      value = CASE WHEN c.expires_at > p_now THEN c.value ELSE 0 END + excluded.value, expires_at = GREATEST(c.expires_at, excluded.expires_at))`;
}

/**
 * Writes counting `counts` in one statement with the operation's writes: `write` gets the CTEs to include. Two
 * versions, chosen by whether the caller gave counters of its own: most calls give none, and the statement
 * without them costs about half as much as the one merging them in.
 */
export function withUsage(
  t: TableNames, counts: ReadonlyArray<readonly [string, string]>, write: (ctes: string[]) => string, indent = '    ',
): string {
  return `${indent}IF p_u_add IS NULL THEN
${write(counts.length ? [usageCte(t, counts, false)] : [])}
${indent}ELSE
${write([usageCte(t, counts, true)])}
${indent}END IF;`;
}
