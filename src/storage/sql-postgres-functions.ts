// The Postgres money operations as PL/pgSQL functions in the store's schema: one call (one round trip, bound
// parameters, plans cached per connection) runs the account lock, the expired-hold release and the operation.
// Each statement inside costs more than the work it does, so a usual call runs three: the lock, one read of
// what the operation needs (with the expired-hold probe), and one statement with all its writes (CTEs).
import type { TableNames } from './sql-schema.js';
import {
  append, ENTRY_OUTS, lock, lockAndRelease, probe, release, USAGE_PARAMS, withUsage, type FunctionSpec,
} from './sql-postgres-plpgsql.js';
import { CAPS_PARAM, EVENTS_PARAM, giveBack, probeWithCaps, withCaps, writeCapped, writeDone, writeLow } from './sql-postgres-caps.js';

/** The server's clock in epoch ms: a charge reaching the server after its `voidable.until` is refused (see ChargeInput). */
const SERVER_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** A statement with its CTEs (none: the statement alone). */
const stmt = (ctes: readonly string[], main: string): string => (ctes.length ? `WITH ${ctes.join(',\n      ')}\n    ${main}` : main);

/** Every function of the store, by its TS name. */
export function moneyFunctions(t: TableNames) {
  const balance: FunctionSpec = {
    name: 'balance',
    params: [['account', 'text'], ['now', 'bigint']],
    outs: ['o_balance bigint'],
    body: `${lockAndRelease(t)}\n  o_balance := v_bal;`,
  };
  const releaseExpired: FunctionSpec = {
    name: 'release_expired',
    params: [['account', 'text'], ['now', 'bigint']],
    outs: ['o_released bigint'],
    body: `${lockAndRelease(t)}\n  o_released := v_released;`,
  };
  // A reference is insert-once across both partial indexes of the ledger (see sql-schema.ts), each probed on its own;
  // probed again after a release (whose entries carry references). `u_add`: every counter the entry adds (its
  // kind's, see postCounts, with the caller's), decided in TS.
  const dup = `p_reference IS NOT NULL AND (
        EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = p_account AND reference = p_reference AND kind NOT IN ('hold', 'release'))
        OR EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = p_account AND reference = p_reference AND kind IN ('hold', 'release')))`;
  const post: FunctionSpec = {
    name: 'post',
    params: [
      ['account', 'text'], ['now', 'bigint'], ['amount', 'bigint'], ['kind', 'text'], ['reference', 'text'], ['memo', 'text'], ...USAGE_PARAMS,
      CAPS_PARAM, EVENTS_PARAM,
    ],
    outs: ['o_balance bigint', 'o_dup boolean', ...ENTRY_OUTS],
    body: `${lock(t)}
${probe(t, [[dup, 'o_dup']])}
${release(t, `o_dup := ${dup};`)}
  o_balance := v_bal;
  IF NOT o_dup AND (p_amount >= 0 OR v_bal + p_amount >= 0) THEN
${withUsage(t, [], (ctes) => append(t, 'p_amount', 'p_kind', 'p_reference', 'p_memo', { indent: '      ', ctes }))}
${giveBack(t, '-p_amount', '    ')}
${writeDone(t)}
${writeLow(t)}
  END IF;`,
  };
  // Store.incr with usage: no account lock (a counter is one row, upserted atomically), the caller's counters with it.
  const incr: FunctionSpec = {
    name: 'incr',
    params: [['account', 'text'], ['now', 'bigint'], ['name', 'text'], ['by', 'bigint'], ['expires_at', 'bigint'], ...USAGE_PARAMS],
    outs: ['o_value bigint'],
    body: withUsage(t, [], (ctes) => `    ${stmt(ctes, `INSERT INTO ${t.counters} AS c (account, name, value, expires_at) VALUES (p_account, p_name, p_by, p_expires_at)
      ON CONFLICT (account, name) DO UPDATE SET
        value = CASE WHEN c.expires_at > p_now THEN c.value + excluded.value ELSE excluded.value END, expires_at = excluded.expires_at
      RETURNING value INTO o_value;`)}`, '  '),
  };
  return { balance, releaseExpired, post, incr, ...chargeFunctions(t), ...holdFunctions(t) };
}

/**
 * charge and void. The API-key check is the lock's gate: a failed check locks nothing, creates no account and
 * releases nothing. Comparing the digests with `=` is safe (see src/storage/charge-auth.ts); a hash of any length
 * but 32 bytes never matches. The tag test is charge-auth.ts's tagAdmits: the tag itself, or (with a scope)
 * `tag;` followed by a comma-separated list naming the scope.
 */
function chargeFunctions(t: TableNames) {
  const authed = `(p_auth_collection IS NULL OR (octet_length(p_auth_hash) = 32 AND EXISTS (
    SELECT 1 FROM ${t.records} WHERE account = p_account AND collection = p_auth_collection AND key = p_auth_key
      AND (tag = p_auth_tag OR (p_auth_scope IS NOT NULL AND starts_with(tag, p_auth_tag || ';')
        AND p_auth_scope = ANY(string_to_array(substr(tag, char_length(p_auth_tag) + 2), ','))))
      AND (expires_at IS NULL OR expires_at > p_now) AND substring(value FROM 1 FOR 32) = p_auth_hash)))`;
  // What the charge took, under its id (0: a free call), for void; and the key's last use (it passed its check).
  const remember = (taken: string) => `rec AS (INSERT INTO ${t.charges} (account, charge_id, taken, expires_at)
        SELECT p_account, p_void_id, ${taken}, p_void_until WHERE p_void_id IS NOT NULL)`;
  const keyUsed = `INSERT INTO ${t.keyUse} AS k (account, key_id, used_at)
        SELECT p_account, p_u_key_id, p_now WHERE p_u_bucket IS NOT NULL AND p_u_key_id IS NOT NULL
        ON CONFLICT (account, key_id) DO UPDATE SET used_at = GREATEST(k.used_at, excluded.used_at)`;
  const keyUse = `ku AS (${keyUsed})`;
  const charge: FunctionSpec = {
    name: 'charge',
    params: [
      ['account', 'text'], ['now', 'bigint'], ['window', 'text'], ['window_expires', 'bigint'], ['free_limit', 'bigint'], ['price', 'bigint'], ['memo', 'text'],
      ['auth_collection', 'text'], ['auth_key', 'text'], ['auth_tag', 'text'], ['auth_scope', 'text'], ['auth_hash', 'bytea'],
      ['void_id', 'text'], ['void_until', 'bigint'], ['u_key_id', 'text'], ...USAGE_PARAMS, CAPS_PARAM, EVENTS_PARAM,
    ],
    outs: ['o_authed boolean', 'o_fresh boolean', 'o_balance bigint', 'o_used bigint', 'o_free_used bigint', 'o_cap bigint', ...ENTRY_OUTS],
    body: `  o_authed := false;
${lock(t, { cond: authed, refused: 'RETURN;' })}
  o_authed := true;
  -- The charge's id: unknown to the store (never voided nor used), and not arriving after its until. Neither it nor
  -- the free calls used is changed by a release.
${probeWithCaps(t, [
  [`p_void_id IS NULL OR (${SERVER_MS} <= p_void_until
        AND NOT EXISTS (SELECT 1 FROM ${t.charges} WHERE account = p_account AND charge_id = p_void_id))`, 'o_fresh'],
  [`COALESCE((SELECT value FROM ${t.counters} WHERE account = p_account AND name = 'free:' || p_window AND expires_at > p_now), 0)`, 'o_used'],
  // Caps limit the price, never a free call or a charge of nothing.
], 'p_price', 'p_price > 0')}
${release(t)}
  IF NOT o_fresh THEN o_used := NULL; RETURN; END IF;
  o_balance := v_bal;
  IF o_used < p_free_limit THEN
${withUsage(t, [['free', '1']], (ctes) => `      ${stmt([remember('0'), ...ctes, keyUse], `INSERT INTO ${t.counters} AS c (account, name, value, expires_at)
      VALUES (p_account, 'free:' || p_window, o_used + 1, p_window_expires)
      ON CONFLICT (account, name) DO UPDATE SET
        value = CASE WHEN c.expires_at > p_now THEN c.value + 1 ELSE 1 END, expires_at = excluded.expires_at
      RETURNING value INTO o_free_used;`)}`)}
  ELSIF p_price > 0 AND o_cap IS NOT NULL THEN
    -- A cap first, as the reference store: buying credit would not lift it. Its event commits with the refusal.
${writeCapped(t, 'o_cap')}
    IF p_u_bucket IS NOT NULL AND p_u_key_id IS NOT NULL THEN ${keyUsed}; END IF;
  ELSIF p_price > 0 AND v_bal >= p_price THEN
${withUsage(t, [['paid', '1'], ['spent', 'p_price']], (uctes) => withCaps(t, 'p_price', (cctes) =>
    append(t, '-p_price', `'debit'`, 'NULL::text', 'p_memo', { indent: '        ', ctes: [remember('p_price'), ...uctes, ...cctes, keyUse] }), '      '))}
${writeLow(t)}
  ELSIF p_u_bucket IS NOT NULL AND p_u_key_id IS NOT NULL THEN
    ${keyUsed};
  END IF;`,
  };
  // Undoes the charge or hold p_id once: a live record of a free call gives the call back, of a debit posts a
  // 'refund'; with no record, a live hold of that id is released; then the id is marked voided (-1). A record
  // already voided changes nothing. GREATEST ignores the NULL of no live record.
  const live = `FROM ${t.charges} WHERE account = p_account AND charge_id = p_id AND expires_at > p_now`;
  const mark = `mk AS (INSERT INTO ${t.charges} AS c (account, charge_id, taken, expires_at) VALUES (p_account, p_id, -1, GREATEST(p_until, v_expires))
        ON CONFLICT (account, charge_id) DO UPDATE SET taken = -1, expires_at = excluded.expires_at)`;
  const voidFn: FunctionSpec = {
    name: 'void',
    params: [
      ['account', 'text'], ['now', 'bigint'], ['id', 'text'], ['window', 'text'], ['until', 'bigint'], ['memo', 'text'], ...USAGE_PARAMS,
      CAPS_PARAM, EVENTS_PARAM,
    ],
    outs: ['o_taken bigint', 'o_balance bigint', ...ENTRY_OUTS],
    declare: 'v_expires bigint; v_held bigint;',
    body: `${lock(t)}
${probe(t, [[`(SELECT taken ${live})`, 'o_taken'], [`(SELECT expires_at ${live})`, 'v_expires']])}
${release(t)}
  o_balance := v_bal;
  IF o_taken = -1 THEN RETURN; END IF;
  IF o_taken = 0 THEN
${withUsage(t, [['refunds', '1']], (ctes) => `      ${stmt([mark, ...ctes], `UPDATE ${t.counters} SET value = value - 1
      WHERE account = p_account AND name = 'free:' || p_window AND expires_at > p_now AND value > 0;`)}`)}
  ELSIF o_taken > 0 THEN
${withUsage(t, [['refunds', '1'], ['refunded', 'o_taken']], (ctes) => append(t, 'o_taken', `'refund'`, 'NULL::text', 'p_memo', { indent: '      ', ctes: [mark, ...ctes] }))}
${giveBack(t, '-o_taken', '    ')}
    -- Only a paid charge given back is a refund of the call (not a free call, not a hold's release).
${writeDone(t)}
  ELSE
    ${stmt([`h AS (DELETE FROM ${t.holds} WHERE account = p_account AND hold_id = p_id RETURNING amount)`, mark], 'SELECT amount INTO v_held FROM h;')}
    IF v_held IS NOT NULL THEN
${append(t, 'v_held', `'release'`, `'hold:' || p_id`, 'p_memo', { indent: '      ' })}
${giveBack(t, '-v_held', '      ')}
    END IF;
  END IF;`,
  };
  return { charge, void: voidFn };
}

/** hold and settle. */
function holdFunctions(t: TableNames) {
  // Whether the id is taken by a hold (again after a release, which deletes holds) or by a charge id (a void came first).
  const dup = `EXISTS (SELECT 1 FROM ${t.holds} WHERE account = p_account AND hold_id = p_hold_id)`;
  const hold: FunctionSpec = {
    name: 'hold',
    params: [
      ['account', 'text'], ['now', 'bigint'], ['hold_id', 'text'], ['amount', 'bigint'], ['expires_at', 'bigint'], ['memo', 'text'], CAPS_PARAM, EVENTS_PARAM,
    ],
    outs: ['o_balance bigint', 'o_dup boolean', 'o_voided boolean', 'o_cap bigint', ...ENTRY_OUTS],
    body: `${lock(t)}
${probeWithCaps(t, [
  [dup, 'o_dup'], [`EXISTS (SELECT 1 FROM ${t.charges} WHERE account = p_account AND charge_id = p_hold_id)`, 'o_voided'],
], 'p_amount')}
${release(t, `o_dup := ${dup};`)}
  o_balance := v_bal;
  IF o_dup OR o_voided THEN RETURN; END IF;
  IF o_cap IS NOT NULL THEN
${writeCapped(t, 'o_cap')}
  ELSIF v_bal >= p_amount THEN
${withCaps(t, 'p_amount', (ctes) => append(t, '-p_amount', `'hold'`, `'hold:' || p_hold_id`, 'p_memo', {
    indent: '      ',
    ctes: [`h AS (INSERT INTO ${t.holds} (account, hold_id, amount, expires_at, created_seq) VALUES (p_account, p_hold_id, p_amount, p_expires_at, v_seq))`, ...ctes],
  }))}
${writeLow(t)}
  END IF;`,
  };
  // The hold is read live (not expired: an expired one is released first, and settling it is unknown_hold). Beyond
  // the hold, charge only what the balance covers: the balance never goes below 0. The caller's counters count once
  // the hold is found (a paid call even at 0); 'paid' and 'spent' only when it charged something.
  const removeHold = `DELETE FROM ${t.holds} WHERE account = p_account AND hold_id = p_hold_id`;
  const remove = `hd AS (${removeHold})`;
  const paid = [['paid', '1'], ['spent', 'o_held - o_back']] as const;
  const settle: FunctionSpec = {
    name: 'settle',
    params: [['account', 'text'], ['now', 'bigint'], ['hold_id', 'text'], ['actual', 'bigint'], ['memo', 'text'], ...USAGE_PARAMS, CAPS_PARAM],
    outs: ['o_balance bigint', 'o_held bigint', 'o_back bigint', ...ENTRY_OUTS],
    body: `${lock(t)}
${probe(t, [[`(SELECT amount FROM ${t.holds} WHERE account = p_account AND hold_id = p_hold_id AND expires_at > p_now)`, 'o_held']])}
${release(t)}
  o_balance := v_bal;
  IF o_held IS NULL THEN RETURN; END IF;
  o_back := o_held - LEAST(p_actual, o_held + v_bal);
  IF o_back <> 0 AND o_held > o_back THEN
${withUsage(t, paid, (ctes) => append(t, 'o_back', `'settle'`, 'NULL::text', 'p_memo', { indent: '      ', ctes: [remove, ...ctes] }))}
  ELSIF o_back <> 0 THEN
${withUsage(t, [], (ctes) => append(t, 'o_back', `'settle'`, 'NULL::text', 'p_memo', { indent: '      ', ctes: [remove, ...ctes] }))}
  ELSIF o_held > 0 THEN
${withUsage(t, paid, (ctes) => `      ${stmt(ctes, `${removeHold};`)}`)}
  ELSE
${withUsage(t, [], (ctes) => `      ${stmt(ctes, `${removeHold};`)}`)}
  END IF;
  -- What was held but not charged goes back to the caps (a negative back, charged beyond the hold, counts more).
${giveBack(t, '-o_back')}`,
  };
  return { hold, settle };
}

export type MoneyFunctions = ReturnType<typeof moneyFunctions>;
