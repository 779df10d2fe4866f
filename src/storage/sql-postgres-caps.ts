// Spend caps and outbox events inside the Postgres money functions (SpendCap, OperationEvents in outbox.ts): PL/pgSQL
// fragments over two optional jsonb parameters, p_caps and p_events, both NULL on a call without them. Nothing here
// adds a statement to a call without caps or events: each fragment is a branch on a parameter being NULL (a PL/pgSQL
// expression, no executor statement) or a second version of a statement chosen by such a branch.
import { probe, type Param } from './sql-postgres-plpgsql.js';
import type { TableNames } from './sql-schema.js';

/**
 * p_caps: a limiting operation's caps (SpendCap[] as jsonb: [{counter, limit, expiresAt}]), or the counters a giving-back
 * operation gives back to (string[] as jsonb). p_events: OperationEvents as jsonb. Last, with DEFAULT NULL (see FunctionSpec).
 */
export const CAPS_PARAM: Param = ['caps', 'jsonb', 'optional'];
export const EVENTS_PARAM: Param = ['events', 'jsonb', 'optional'];

/**
 * The function's probe (see `probe`), with o_cap when the call has caps: the index of the first cap that `amount` more
 * would take over its limit, else NULL (capOver in caps.ts); NULL unless `when`. Cap counters are the account's own and
 * change only under its row lock (every money function takes it first), so this read is exact; a release never changes
 * them. Two versions of the statement: a call without caps runs the probe as it was (a subquery in it, even one never
 * evaluated, is set up by every execution: measurably slower).
 */
export function probeWithCaps(t: TableNames, reads: ReadonlyArray<readonly [string, string]>, amount: string, when = 'true'): string {
  const over = `CASE WHEN ${when} THEN (SELECT min(x.ord) - 1 FROM jsonb_array_elements(p_caps) WITH ORDINALITY AS x(cap, ord)
      WHERE COALESCE((SELECT value FROM ${t.counters} WHERE account = p_account AND name = x.cap->>'counter' AND expires_at > p_now), 0)
        + ${amount} > (x.cap->>'limit')::bigint) END`;
  const indent = (sql: string) => sql.split('\n').map((line) => `  ${line}`).join('\n');
  return `  IF p_caps IS NULL THEN
${indent(probe(t, reads))}
  ELSE
${indent(probe(t, [...reads, [over, 'o_cap']]))}
  END IF;`;
}

/**
 * A data-modifying CTE adding `amount` to every cap's counter, in the statement that takes the money. A counter past
 * its expiry starts over; an expiry only ever moves later. Counters are upserted in name order, each once (a name
 * given twice counts twice, as on the other stores).
 */
export const spendCte = (t: TableNames, amount: string): string => `sp AS (INSERT INTO ${t.counters} AS c (account, name, value, expires_at)
        SELECT p_account, x.counter, (${amount}) * count(*), max(x."expiresAt")
        FROM jsonb_to_recordset(p_caps) AS x(counter text, "expiresAt" bigint) GROUP BY x.counter ORDER BY x.counter
        ON CONFLICT (account, name) DO UPDATE SET value = CASE WHEN c.expires_at > p_now THEN c.value ELSE 0 END + excluded.value,
          expires_at = GREATEST(c.expires_at, excluded.expires_at))`;

/**
 * `write(ctes)` twice, chosen by whether the call has caps: the statement without them stays exactly what it was.
 * `amount`: what each cap's counter gets (the statement must not change it before the CTE reads it: use a parameter).
 */
export function withCaps(t: TableNames, amount: string, write: (ctes: string[]) => string, indent = '    '): string {
  return `${indent}IF p_caps IS NULL THEN
${write([])}
${indent}ELSE
${write([spendCte(t, amount)])}
${indent}END IF;`;
}

/** Adds `delta` to every live counter named in p_caps (a give-back never creates nor revives one). */
export const giveBack = (t: TableNames, delta: string, indent = '  '): string => `${indent}IF p_caps IS NOT NULL AND (${delta}) <> 0 THEN
${indent}  UPDATE ${t.counters} SET value = value + (${delta})
${indent}    WHERE account = p_account AND name IN (SELECT jsonb_array_elements_text(p_caps)) AND expires_at > p_now;
${indent}END IF;`;

/** Writes the outbox rows of the jsonb array `rows` once by id, with the balance after (v_bal), in the function's transaction. */
export const writeRows = (t: TableNames, rows: string): string => `PERFORM ${t.outboxWrite}(p_account, ${rows}, v_bal, p_now);`;

/** The rows of `capped[i]` when caps[i] refused (`cap`: the index). */
export const writeCapped = (t: TableNames, cap: string, indent = '    '): string =>
  `${indent}IF p_events IS NOT NULL THEN ${writeRows(t, `p_events->'capped'->(${cap})::int`)} END IF;`;

/**
 * `low` rows when the entry just appended (v_amt, see `append`) took the balance from v_bal - v_amt to v_bal across
 * `below` (lowRows in caps.ts): once per crossing.
 */
export const writeLow = (t: TableNames, indent = '    '): string => `${indent}IF p_events IS NOT NULL
${indent}    AND v_bal - v_amt >= (p_events->'low'->>'below')::bigint AND v_bal < (p_events->'low'->>'below')::bigint THEN
${indent}  ${writeRows(t, `p_events->'low'->'rows'`)}
${indent}END IF;`;

/** `done` rows: the operation took effect. */
export const writeDone = (t: TableNames, indent = '    '): string =>
  `${indent}IF p_events IS NOT NULL AND p_events ? 'done' THEN ${writeRows(t, `p_events->'done'`)} END IF;`;
