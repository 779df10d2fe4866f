// What the admin API answers, as the client types it (kept equal to the server's response schemas by test/client/types.test.ts).
import type { LedgerEntry, Timestamp } from './types.js';

/** What a key may call; a key created without scopes has them all. */
export type Scope = 'claude' | 'memory:read' | 'memory:write' | 'payments';

export interface CreatedKey {
  status: 'success';
  /** Shown only here: store it. */
  api_key: string;
  key_id: string;
  account_id: string;
  label: string;
  /** The non-secret start of the API key, to recognize it. */
  prefix: string;
  scopes: Scope[];
  /** null: never expires. */
  expires_at: Timestamp | null;
  created_at: Timestamp;
  /** The key's own spend caps in micro-USD; null: the server's defaults apply. */
  daily_spend_cap_micro_usd: number | null;
  monthly_spend_cap_micro_usd: number | null;
}

export interface RotatedKey extends CreatedKey {
  /** The key it replaces. */
  rotated_from: string;
  /** When the old key stops working. */
  old_key_expires_at: Timestamp;
}

export interface AdminKey {
  key_id: string;
  label: string;
  prefix: string;
  scopes: Scope[];
  status: 'active' | 'revoked' | 'expired';
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  /** When it stops (or stopped) working: its expiry, or the end of the grace after a rotation. */
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  rotated_from: string | null;
  rotated_to: string | null;
  daily_spend_cap_micro_usd: number | null;
  monthly_spend_cap_micro_usd: number | null;
}

export interface AdminKeyList {
  status: 'success';
  account_id: string;
  keys: AdminKey[];
}

export interface AccountSummary {
  account_id: string;
  created_at: Timestamp;
  balance_micro_usd: number;
  balance_usd: string;
  keys_active: number;
  keys_total: number;
  /** null when the server does not count usage. */
  calls_today: number | null;
  /** Net of refunds; null when the server does not count usage. */
  spent_today_micro_usd: number | null;
}

export interface AccountPage {
  status: 'success';
  /** Oldest first. */
  accounts: AccountSummary[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface AccountDetail {
  status: 'success';
  account_id: string;
  created_at: Timestamp;
  balance_micro_usd: number;
  balance_usd: string;
  keys: AdminKey[];
  /** The last 20 entries, newest first. */
  ledger: LedgerEntry[];
  wallets: Array<{ address: string; linked_at: Timestamp }>;
  /** Today's counters (UTC); null when the server does not count usage. */
  usage_today: UsageCounts | null;
}

export interface Granted {
  status: 'success';
  account_id: string;
  balance_micro_usd: number;
  balance_usd: string;
  /** false: a grant with this reference was made before; nothing was added. */
  granted: boolean;
  entry?: LedgerEntry;
  duplicate?: true;
}

/** What one bucket of GET /admin/usage counts (see the server's OpenAPI for each field). */
export interface UsageCounts {
  calls: number;
  free_calls: number;
  paid_calls: number;
  refunded_calls: number;
  spent_micro_usd: number;
  refunded_micro_usd: number;
  credited_micro_usd: number;
  claude_tokens: Record<string, { input: number; output: number; cache_read: number; cache_write: number }>;
}

/** GET /admin/usage: every bucket of the span, oldest first, and their totals. */
export interface UsageReport {
  status: 'success';
  /** null: the sum over all accounts. */
  account_id: string | null;
  bucket: 'hour' | 'day';
  from: Timestamp;
  to: Timestamp;
  buckets: Array<UsageCounts & { start: Timestamp }>;
  totals: UsageCounts & { spent_usd: string; refunded_usd: string; credited_usd: string };
}
