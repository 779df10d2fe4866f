// The Postgres money operations as PL/pgSQL functions in the store's schema: one call (one round trip, bound
// parameters, a plan cached per connection) runs the account lock, the expired-hold release and the operation.
import type { TableNames } from './sql-schema.js';
import { append, countUsage, ENTRY_OUTS, lockAndRelease, USAGE_PARAMS, type FunctionSpec } from './sql-postgres-plpgsql.js';

/** The server's clock in epoch ms: a charge reaching the server after its `voidable.until` is refused (see ChargeInput). */
const SERVER_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** Every function of the store, by its TS name. */
export function moneyFunctions(t: TableNames) {
  const lock = lockAndRelease(t);
  const balance: FunctionSpec = {
    name: 'balance',
    params: [['account', 'text'], ['now', 'bigint']],
    outs: ['o_balance bigint'],
    body: `${lock}\n  o_balance := v_bal;`,
  };
  const releaseExpired: FunctionSpec = {
    name: 'release_expired',
    params: [['account', 'text'], ['now', 'bigint']],
    outs: ['o_released bigint'],
    body: `${lock}\n  o_released := v_released;`,
  };
  // A reference is insert-once across both partial indexes of the ledger (see sql-schema.ts), each probed on its own.
  // `u_add`: every counter the entry adds (its kind's, see postCounts, with the caller's), decided in TS.
  const post: FunctionSpec = {
    name: 'post',
    params: [['account', 'text'], ['now', 'bigint'], ['amount', 'bigint'], ['kind', 'text'], ['reference', 'text'], ['memo', 'text'], ...USAGE_PARAMS],
    outs: ['o_balance bigint', 'o_dup boolean', ...ENTRY_OUTS],
    body: `${lock}
  o_balance := v_bal;
  o_dup := p_reference IS NOT NULL AND (
    EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = p_account AND reference = p_reference AND kind NOT IN ('hold', 'release'))
    OR EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = p_account AND reference = p_reference AND kind IN ('hold', 'release')));
  IF NOT o_dup AND (p_amount >= 0 OR v_bal + p_amount >= 0) THEN
${append(t, 'p_amount', 'p_kind', 'p_reference', 'p_memo')}
${countUsage(t, 'ARRAY[]', 'ARRAY[]', 'p_u_add')}
  END IF;`,
  };
  // Store.incr with usage: no account lock (a counter is one row, upserted atomically), the caller's counters with it.
  const incr: FunctionSpec = {
    name: 'incr',
    params: [['account', 'text'], ['now', 'bigint'], ['name', 'text'], ['by', 'bigint'], ['expires_at', 'bigint'], ...USAGE_PARAMS],
    outs: ['o_value bigint'],
    body: `  INSERT INTO ${t.counters} AS c (account, name, value, expires_at) VALUES (p_account, p_name, p_by, p_expires_at)
    ON CONFLICT (account, name) DO UPDATE SET
      value = CASE WHEN c.expires_at > p_now THEN c.value + excluded.value ELSE excluded.value END, expires_at = excluded.expires_at
    RETURNING value INTO o_value;
${countUsage(t, 'ARRAY[]', 'ARRAY[]', 'p_u_add', '  ')}`,
  };
  return { balance, releaseExpired, post, incr, ...chargeFunctions(t, lock), ...holdFunctions(t, lock) };
}

/**
 * charge and void. The API-key check runs before anything is locked or written: a failed check creates no account
 * and releases nothing. Comparing the digests with `=` is safe (see src/storage/charge-auth.ts); a hash of any
 * length but 32 bytes never matches. The tag test is charge-auth.ts's tagAdmits: the tag itself, or (with a scope)
 * `tag;` followed by a comma-separated list naming the scope.
 */
function chargeFunctions(t: TableNames, lock: string) {
  const charge: FunctionSpec = {
    name: 'charge',
    params: [
      ['account', 'text'], ['now', 'bigint'], ['window', 'text'], ['window_expires', 'bigint'], ['free_limit', 'bigint'], ['price', 'bigint'], ['memo', 'text'],
      ['auth_collection', 'text'], ['auth_key', 'text'], ['auth_tag', 'text'], ['auth_scope', 'text'], ['auth_hash', 'bytea'],
      ['void_id', 'text'], ['void_until', 'bigint'], ['u_key_id', 'text'], ...USAGE_PARAMS,
    ],
    outs: ['o_authed boolean', 'o_fresh boolean', 'o_balance bigint', 'o_used bigint', 'o_free_used bigint', ...ENTRY_OUTS],
    declare: `v_name text := 'free:' || p_window; v_taken bigint;`,
    body: `  o_authed := p_auth_collection IS NULL OR (octet_length(p_auth_hash) = 32 AND EXISTS (
    SELECT 1 FROM ${t.records} WHERE account = p_account AND collection = p_auth_collection AND key = p_auth_key
      AND (tag = p_auth_tag OR (p_auth_scope IS NOT NULL AND starts_with(tag, p_auth_tag || ';')
        AND p_auth_scope = ANY(string_to_array(substr(tag, char_length(p_auth_tag) + 2), ','))))
      AND (expires_at IS NULL OR expires_at > p_now) AND substring(value FROM 1 FOR 32) = p_auth_hash));
  IF NOT o_authed THEN RETURN; END IF;
${lock}
  -- The charge's id: unknown to the store (never voided nor used), and not arriving after its until.
  o_fresh := p_void_id IS NULL OR (${SERVER_MS} <= p_void_until
    AND NOT EXISTS (SELECT 1 FROM ${t.charges} WHERE account = p_account AND charge_id = p_void_id));
  IF NOT o_fresh THEN RETURN; END IF;
  o_balance := v_bal;
  o_used := COALESCE((SELECT value FROM ${t.counters} WHERE account = p_account AND name = v_name AND expires_at > p_now), 0);
  IF o_used < p_free_limit THEN
    INSERT INTO ${t.counters} AS c (account, name, value, expires_at) VALUES (p_account, v_name, o_used + 1, p_window_expires)
      ON CONFLICT (account, name) DO UPDATE SET
        value = CASE WHEN c.expires_at > p_now THEN c.value + 1 ELSE 1 END, expires_at = excluded.expires_at
      RETURNING value INTO o_free_used;
    v_taken := 0;
${countUsage(t, `ARRAY['free']`, 'ARRAY[1]', 'p_u_add')}
  ELSIF p_price > 0 AND v_bal >= p_price THEN
${append(t, '-p_price', `'debit'`, 'NULL::text', 'p_memo')}
    v_taken := p_price;
${countUsage(t, `ARRAY['paid', 'spent']`, 'ARRAY[1, p_price]', 'p_u_add')}
  END IF;
  -- What the charge took, under its id (0: a free call), for void.
  IF v_taken IS NOT NULL AND p_void_id IS NOT NULL THEN
    INSERT INTO ${t.charges} (account, charge_id, taken, expires_at) VALUES (p_account, p_void_id, v_taken, p_void_until);
  END IF;
  -- The key passed its check: its last use is kept whether or not the call could be paid.
  IF p_u_bucket IS NOT NULL AND p_u_key_id IS NOT NULL THEN
    INSERT INTO ${t.keyUse} AS k (account, key_id, used_at) VALUES (p_account, p_u_key_id, p_now)
      ON CONFLICT (account, key_id) DO UPDATE SET used_at = GREATEST(k.used_at, excluded.used_at);
  END IF;`,
  };
  // Undoes the charge or hold p_id once: a live record of a free call gives the call back, of a debit posts a
  // 'refund'; with no record, a live hold of that id is released; then the id is marked voided (-1). A record
  // already voided changes nothing.
  const voidFn: FunctionSpec = {
    name: 'void',
    params: [['account', 'text'], ['now', 'bigint'], ['id', 'text'], ['window', 'text'], ['until', 'bigint'], ['memo', 'text'], ...USAGE_PARAMS],
    outs: ['o_taken bigint', 'o_balance bigint', ...ENTRY_OUTS],
    declare: 'v_expires bigint; v_held bigint;',
    body: `${lock}
  SELECT taken, expires_at INTO o_taken, v_expires FROM ${t.charges} WHERE account = p_account AND charge_id = p_id AND expires_at > p_now;
  o_balance := v_bal;
  IF o_taken = -1 THEN RETURN; END IF;
  IF o_taken = 0 THEN
    UPDATE ${t.counters} SET value = value - 1
      WHERE account = p_account AND name = 'free:' || p_window AND expires_at > p_now AND value > 0;
  ELSIF o_taken > 0 THEN
${append(t, 'o_taken', `'refund'`, 'NULL::text', 'p_memo')}
  ELSE
    DELETE FROM ${t.holds} WHERE account = p_account AND hold_id = p_id RETURNING amount INTO v_held;
    IF FOUND THEN
${append(t, 'v_held', `'release'`, `'hold:' || p_id`, 'p_memo', '      ')}
    END IF;
  END IF;
  IF o_taken IS NOT NULL THEN
${countUsage(t, `ARRAY['refunds', 'refunded']`, 'ARRAY[1, o_taken]', 'p_u_add')}
  END IF;
  -- GREATEST ignores the NULL of no live record.
  INSERT INTO ${t.charges} AS c (account, charge_id, taken, expires_at) VALUES (p_account, p_id, -1, GREATEST(p_until, v_expires))
    ON CONFLICT (account, charge_id) DO UPDATE SET taken = -1, expires_at = excluded.expires_at;`,
  };
  return { charge, void: voidFn };
}

/** hold and settle. */
function holdFunctions(t: TableNames, lock: string) {
  const hold: FunctionSpec = {
    name: 'hold',
    params: [['account', 'text'], ['now', 'bigint'], ['hold_id', 'text'], ['amount', 'bigint'], ['expires_at', 'bigint'], ['memo', 'text']],
    outs: ['o_balance bigint', 'o_dup boolean', 'o_voided boolean', ...ENTRY_OUTS],
    body: `${lock}
  o_balance := v_bal;
  o_dup := EXISTS (SELECT 1 FROM ${t.holds} WHERE account = p_account AND hold_id = p_hold_id);
  o_voided := EXISTS (SELECT 1 FROM ${t.charges} WHERE account = p_account AND charge_id = p_hold_id);
  IF NOT o_dup AND NOT o_voided AND v_bal >= p_amount THEN
${append(t, '-p_amount', `'hold'`, `'hold:' || p_hold_id`, 'p_memo')}
    INSERT INTO ${t.holds} (account, hold_id, amount, expires_at, created_seq) VALUES (p_account, p_hold_id, p_amount, p_expires_at, v_seq);
  END IF;`,
  };
  // Beyond the hold, charge only what the balance covers: the balance never goes below 0. The caller's counters
  // count once the hold is found (a paid call even at 0); 'paid' and 'spent' only when it charged something.
  const settle: FunctionSpec = {
    name: 'settle',
    params: [['account', 'text'], ['now', 'bigint'], ['hold_id', 'text'], ['actual', 'bigint'], ['memo', 'text'], ...USAGE_PARAMS],
    outs: ['o_balance bigint', 'o_held bigint', 'o_back bigint', ...ENTRY_OUTS],
    body: `${lock}
  o_balance := v_bal;
  DELETE FROM ${t.holds} WHERE account = p_account AND hold_id = p_hold_id RETURNING amount INTO o_held;
  IF NOT FOUND THEN RETURN; END IF;
  o_back := o_held - LEAST(p_actual, o_held + v_bal);
  IF o_back <> 0 THEN
${append(t, 'o_back', `'settle'`, 'NULL::text', 'p_memo')}
  END IF;
  IF o_held > o_back THEN
${countUsage(t, `ARRAY['paid', 'spent']`, 'ARRAY[1, o_held - o_back]', 'p_u_add', '    ')}
  ELSE
${countUsage(t, 'ARRAY[]', 'ARRAY[]', 'p_u_add', '    ')}
  END IF;`,
  };
  return { hold, settle };
}

export type MoneyFunctions = ReturnType<typeof moneyFunctions>;
