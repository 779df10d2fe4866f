// What the API answers, as the client types it (kept equal to the server's response schemas by test/client/types.test.ts).

/** ISO 8601 date-time (UTC). */
export type Timestamp = string;

export interface MemoryWritten {
  status: 'success';
  message: string;
  user_id: string;
  key: string;
  /** To the second; null when the memory never expires. */
  expires_at: Timestamp | null;
  version: number;
  etag: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Memory<T = unknown> {
  status: 'success';
  user_id: string;
  key: string;
  data: T;
  expires_at: Timestamp | null;
  version: number;
  etag: string;
  size: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MemoryKey {
  key: string;
  size: number;
  version: number;
  etag: string;
  updated_at: Timestamp;
  expires_at: Timestamp | null;
}

export interface MemoryListPage {
  status: 'success';
  user_id: string;
  keys: MemoryKey[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface MemoryDeleted {
  status: 'success';
  message: string;
  user_id: string;
  key: string;
  deleted: true;
  /** Versions of its history removed with it. */
  deleted_versions: number;
}

export interface UserErased {
  status: 'success';
  user_id: string;
  deleted_keys: number;
  /** Versions of history removed with them. */
  deleted_versions: number;
  /** Search index entries and vectors removed with them. */
  deleted_index_entries: number;
}

export type SearchMode = 'lexical' | 'semantic' | 'hybrid';

/** One memory that matched a search. */
export interface SearchHit<T = unknown> {
  key: string;
  /** Higher is better; comparable within one answer only. */
  score: number;
  /** Left out with `include_data: false`. */
  data?: T;
  version: number;
  etag: string;
  updated_at: Timestamp;
  expires_at: Timestamp | null;
}

export interface SearchResults<T = unknown> {
  status: 'success';
  user_id: string;
  query: string;
  mode: SearchMode;
  /** Present when hybrid search answered from the lexical list alone (the embedder failed). */
  degraded?: string;
  /** Best first. */
  results: Array<SearchHit<T>>;
}

export interface SearchOptions {
  /** @default 10 */
  limit?: number;
  /** Only keys starting with this. */
  prefix?: string;
  /** false: leave the values out. @default true */
  include_data?: boolean;
  /** @default 'hybrid' when the server has an embedder, else 'lexical' */
  mode?: SearchMode;
}

/** Balance and free calls; money is integer micro-USD (1 USD = 1000000). */
export interface Balance {
  status: 'success';
  account_id: string;
  balance_micro_usd: number;
  balance_usd: string;
  free_calls_remaining: number;
  free_calls_per_day: number;
  free_calls_reset_at: Timestamp;
}

export interface LedgerEntry {
  id: string;
  account_id: string;
  amount_micro_usd: number;
  kind: 'grant' | 'debit' | 'refund' | 'purchase' | 'hold' | 'settle' | 'release';
  reference: string | null;
  memo: string | null;
  created_at: Timestamp;
  balance_after: number;
}

export interface LedgerPage {
  status: 'success';
  account_id: string;
  entries: LedgerEntry[];
  next_cursor: string | null;
}

/** The `payment` object of a 402: what the call costs, the balance, and how to buy credits. */
export interface PaymentInfo {
  currency: 'USD';
  price_micro_usd: number;
  price_usd: string;
  balance_micro_usd: number;
  balance_usd: string;
  shortfall_micro_usd: number;
  shortfall_usd: string;
  free_calls_per_day: number;
  free_calls_remaining: number;
  free_calls_reset_at: Timestamp;
  /** Paths relative to the mount; with payments configured, the chain details of GET /buy-credits too. */
  buy: {
    /** Only when the server sells credits (payments on); then with the chain details of GET /buy-credits. */
    instructions?: { method: 'GET'; path: string };
    purchase?: { method: 'POST'; path: string; [k: string]: unknown };
    balance: { method: 'GET'; path: string };
    /** false when the server sells no credits online (its operator grants them). */
    online_purchase?: false;
    /** Whom to ask for credits, when the operator set it. */
    contact?: string;
    [k: string]: unknown;
  };
  /** When this call can pay for itself with x402 (see the PAYMENT-REQUIRED header). */
  x402?: { pay_this_call: string };
  [k: string]: unknown;
}

/** What POST /buy-credits answers: credited (200) or waiting for confirmations (202). */
export type Purchase =
  | { status: 'success'; tx_hash: string; credited_micro_usd: number; balance_micro_usd: number; [k: string]: unknown }
  | { status: 'pending'; tx_hash: string; confirmations: number; required: number; message: string };

/** A Messages API request (the article's body: messages and model; the rest is Anthropic's). */
export interface ClaudeRequest {
  model: string;
  messages: Array<{ role: 'user' | 'assistant'; content: unknown }>;
  max_tokens?: number;
  system?: unknown;
  [k: string]: unknown;
}

/** Anthropic's Message (`content[0].text` is the answer). */
export interface ClaudeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<{ type: string; text?: string; [k: string]: unknown }>;
  stop_reason: string | null;
  usage: { input_tokens: number; output_tokens: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** One server-sent event of a streamed Claude answer; `data` is parsed JSON. */
export interface ClaudeStreamEvent {
  event: string;
  data: any;
}

/** GET /signup/challenge: a single-use nonce and what the EIP-4361 message must say (`message`: ready to sign, with ?address=). */
export interface SignupChallenge {
  status: 'success';
  nonce: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  domain: string;
  uri: string;
  chain_id: number;
  version: string;
  message?: string;
}

/** POST /signup: the wallet's account and a new API key (shown only here). */
export interface SignedUp {
  status: 'success';
  account_id: string;
  address: string;
  api_key: string;
  key_id: string;
  /** true: this sign-up opened the account. */
  created: boolean;
  previous_keys: Array<{ key_id: string; active: boolean; created_at: Timestamp }>;
  fee_micro_usd: number;
}
