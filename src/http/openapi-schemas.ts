// Schemas of what the API answers (bodies, the error shape, the 402 payment object): for OpenAPI and response tests.
import { z } from 'zod';
import { STATUS_OF, type ErrorCode } from '../errors.js';
import { SCOPES } from '../keys/scopes.js';
import type { RouteResponse } from './route.js';
import type { DocHeader } from './openapi-headers.js';

const success = z.literal('success');
const time = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time, UTC');
const expires = z.iso.datetime().nullable().describe('ISO 8601 date-time to the second, UTC; null when the memory never expires');
const micro = (what: string) => z.number().int().describe(`${what}, in integer micro-USD (1 USD = 1000000)`);
const usd = (what: string) => z.string().regex(/^-?\d+\.\d{6}$/).describe(`${what}, in USD as a decimal string`);
const cursor = z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page');

/** A documented response: description, JSON schema, headers. */
export const ok = (description: string, schema?: z.ZodType, headers?: DocHeader[]): RouteResponse => ({ description, schema, headers });

export const ERROR_CODES = Object.keys(STATUS_OF) as ErrorCode[];

/** The one error shape; `extra` fields (`reason`, `payment`) sit beside `error`. */
export const ErrorBody = z.looseObject({
  status: z.literal('error'),
  error: z.object({
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]).describe('Stable machine-readable code; its HTTP status is fixed (see the API description)'),
    message: z.string().describe('Precise, human-readable: names the field or the limit at fault'),
  }),
});

/** The `payment` object of every 402: what the call costs, what the account has, and how to buy. */
export const Payment = z.looseObject({
  currency: z.literal('USD'),
  price_micro_usd: micro('What the call costs (for Claude calls: the worst case that had to be reserved)'),
  price_usd: usd('The price'),
  balance_micro_usd: micro('The balance now'),
  balance_usd: usd('The balance'),
  shortfall_micro_usd: micro('What is missing'),
  shortfall_usd: usd('What is missing'),
  free_calls_per_day: z.number().int(),
  free_calls_remaining: z.number().int(),
  free_calls_reset_at: time.describe('When the free calls come back (next UTC midnight)'),
  buy: z
    .looseObject({
      instructions: z.object({ method: z.literal('GET'), path: z.string() }).optional().describe('Only when this server sells credits'),
      purchase: z.looseObject({ method: z.literal('POST'), path: z.string() }).optional().describe('Only when this server sells credits'),
      balance: z.object({ method: z.literal('GET'), path: z.string() }),
      online_purchase: z.literal(false).optional().describe('Present when this server sells no credits online: its operator grants them'),
      contact: z.string().optional().describe('Whom to ask for credits (the operatorContact option), when set'),
    })
    .describe('How to get credits; paths are relative to the mount. With payments configured, the purchase routes and the chain details of GET /buy-credits'),
  x402: z.looseObject({ pay_this_call: z.string() }).optional().describe('Present when this call can pay for itself with x402 (see the PAYMENT-REQUIRED header)'),
});

export const PaymentRequiredBody = z.looseObject({ status: z.literal('error'), error: ErrorBody.shape.error, payment: Payment });

/** Anthropic's error JSON, answered by the Anthropic-compatible route. */
export const AnthropicErrorBody = z.looseObject({
  type: z.literal('error'),
  error: z.looseObject({ type: z.string().describe('e.g. invalid_request_error, authentication_error, billing_error, rate_limit_error, api_error'), message: z.string() }),
  payment: Payment.optional().describe('On 402 (billing_error): the payment object'),
});

/** Anthropic's Message, passed through unchanged (`content[0].text` is the answer). */
export const AnthropicMessage = z.looseObject({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable(),
  usage: z.looseObject({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
});

/** count_tokens' answer, passed through unchanged. */
export const AnthropicTokenCount = z.looseObject({ input_tokens: z.number().int() });

const ModelPricing = z
  .object({
    unit: z.literal('micro-USD per million tokens'),
    input: z.number().int(), output: z.number().int(), cache_write_5m: z.number().int(), cache_write_1h: z.number().int(), cache_read: z.number().int(),
    web_search: z.number().int().describe('micro-USD per server-side web search'),
    long_prompt: z.object({
      above_tokens: z.number().int(), input: z.number().int(), output: z.number().int(), cache_write_5m: z.number().int(), cache_write_1h: z.number().int(), cache_read: z.number().int(),
    }).optional().describe('Rates of every token of a request whose prompt exceeds above_tokens'),
  })
  .describe("What this server charges for the model, markup included (aipaygent's field, not Anthropic's)");

/** A model object in Anthropic's shape, plus our price. */
export const AnthropicModel = z.object({
  type: z.literal('model'),
  id: z.string(),
  display_name: z.string(),
  created_at: z.string().describe('RFC 3339: the date in a dated model id, else the date the default price table was checked'),
  aipaygent_pricing: ModelPricing,
  aipaygent_alias_of: z.string().optional().describe('For an alias: the model sent upstream and priced'),
});

export const AnthropicModelPage = z.object({
  data: z.array(AnthropicModel),
  has_more: z.boolean(),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
});

// Memory.
const memoryMeta = { version: z.number().int().describe('Bumped by every write'), etag: z.string(), created_at: time, updated_at: time };
export const MemoryStored = z.object({ status: success, message: z.literal('Memory stored successfully'), key: z.string(), user_id: z.string(), expires_at: expires, ...memoryMeta });
export const MemoryRetrieved = z.object({ status: success, user_id: z.string(), key: z.string(), data: z.unknown().describe('The stored JSON value'), expires_at: expires, size: z.number().int(), ...memoryMeta });
export const MemoryKey = z.object({ key: z.string(), size: z.number().int().describe('Bytes of the JSON value'), version: z.number().int(), etag: z.string(), updated_at: time, expires_at: expires });
export const MemoryList = z.object({ status: success, user_id: z.string(), keys: z.array(MemoryKey), next_cursor: cursor });
export const MemoryDeleted = z.object({
  status: success, message: z.string(), user_id: z.string(), key: z.string(), deleted: z.literal(true),
  deleted_versions: z.number().int().describe('Versions of its history removed with it'),
});
export const UserErased = z.object({
  status: success, user_id: z.string(), deleted_keys: z.number().int(),
  deleted_versions: z.number().int().describe('Versions of history removed with them'),
  deleted_index_entries: z.number().int().describe('Search index entries and vectors removed with them'),
});
export const MemorySearchResults = z.object({
  status: success, user_id: z.string(), query: z.string(), mode: z.enum(['lexical', 'semantic', 'hybrid']),
  degraded: z.string().optional().describe('Present when hybrid search answered from the lexical list alone (the embedder failed)'),
  results: z.array(z.object({
    key: z.string(), score: z.number().describe('Higher is better; comparable within one answer only'),
    data: z.unknown().optional().describe('The stored JSON value (left out with include_data=false)'),
    version: z.number().int(), etag: z.string(), updated_at: time, expires_at: expires,
  })),
});

// Credits.
export const Balance = z.object({
  status: success, account_id: z.string(), balance_micro_usd: micro('The balance'), balance_usd: usd('The balance'),
  free_calls_remaining: z.number().int(), free_calls_per_day: z.number().int(), free_calls_reset_at: time,
});
export const LedgerEntry = z.object({
  id: z.string(), account_id: z.string(), amount_micro_usd: micro('Signed amount'),
  kind: z.enum(['grant', 'debit', 'refund', 'purchase', 'hold', 'settle', 'release']),
  reference: z.string().nullable(), memo: z.string().nullable(), created_at: time, balance_after: micro('Balance after this entry'),
});
export const Ledger = z.object({ status: success, account_id: z.string(), entries: z.array(LedgerEntry), next_cursor: cursor });

// Admin.
const scopes = z.array(z.enum(SCOPES)).describe('What the key may call (a key created without scopes has them all)');
const ownCap = (period: string) => z.number().int().nullable().describe(`The key's own spend cap per UTC ${period} in micro-USD; null: the server's default (if any) applies`);
const key = {
  key_id: z.string(), label: z.string(), prefix: z.string().describe('The non-secret start of the API key ("apg_" and its key id part), to recognize it'), scopes,
  daily_spend_cap_micro_usd: ownCap('day'), monthly_spend_cap_micro_usd: ownCap('month'),
};
const keyExpires = time.nullable().describe('When the key stops working (its expiry, or the end of the grace after a rotation); null: never');
export const KeyCreated = z.object({
  status: success, api_key: z.string().describe('Shown only here: store it'), account_id: z.string(), ...key, expires_at: keyExpires, created_at: time,
});
export const KeyRotated = KeyCreated.extend({ rotated_from: z.string().describe('The key it replaces'), old_key_expires_at: time.describe('When the old key stops working') });
export const KeyRevoked = z.object({ status: success, key_id: z.string(), revoked: z.literal(true) });
export const KeyInfo = z.object({
  ...key, status: z.enum(['active', 'revoked', 'expired']), created_at: time,
  last_used_at: time.nullable().describe('Its last metered call; null: never (or not known)'), expires_at: keyExpires, revoked_at: time.nullable(),
  rotated_from: z.string().nullable().describe('The key this one replaced'), rotated_to: z.string().nullable().describe('The key that replaced this one'),
});
export const KeyList = z.object({ status: success, account_id: z.string(), keys: z.array(KeyInfo) });
const balance = { balance_micro_usd: micro('The balance'), balance_usd: usd('The balance') };
export const AccountSummary = z.object({
  account_id: z.string(), created_at: time, ...balance, keys_active: z.number().int(), keys_total: z.number().int(),
  calls_today: z.number().int().nullable().describe('Metered calls today (UTC); null when usage is not counted'), spent_today_micro_usd: micro('Spent today (UTC), net of refunds; null when usage is not counted').nullable(),
});
export const AccountList = z.object({ status: success, accounts: z.array(AccountSummary).describe('Oldest first'), next_cursor: cursor });
const count = (what: string) => z.number().int().describe(what);
const usageFields = {
  calls: count('Metered calls counted (free + paid); a Claude call paid by tokens counts when settled'),
  free_calls: count("Calls paid by a free call"), paid_calls: count('Calls paid from the balance'),
  refunded_calls: count('Calls given back because they were answered with an error (counted when given back)'),
  spent_micro_usd: micro('Taken by paid calls (before refunds)'), refunded_micro_usd: micro('Given back by refunded calls'),
  credited_micro_usd: micro('Granted and purchased'),
  claude_tokens: z.record(z.string(), z.object({ input: z.number().int(), output: z.number().int(), cache_read: z.number().int(), cache_write: z.number().int() }))
    .describe('Tokens of the Claude calls paid by tokens, by model'),
};
export const AccountDetail = z.object({
  status: success, account_id: z.string(), created_at: time, ...balance, keys: z.array(KeyInfo).describe('Oldest first'),
  ledger: z.array(LedgerEntry).describe('The last 20 entries, newest first'),
  wallets: z.array(z.object({ address: z.string().describe('EVM address'), linked_at: time })).describe('Wallets linked for USDC purchases'),
  usage_today: z.object(usageFields).nullable().describe("Today's usage counters (UTC), as a bucket of GET /admin/usage; null when usage is not counted"),
});
const granted = { status: success, account_id: z.string(), balance_micro_usd: micro('The new balance'), balance_usd: usd('The new balance') };
export const CreditsGranted = z.object({ ...granted, granted: z.literal(true), entry: LedgerEntry });
export const CreditsDuplicate = z.object({ ...granted, granted: z.literal(false), duplicate: z.literal(true) });
export const UsageReport = z.object({
  status: success, account_id: z.string().nullable().describe('null: the sum over all accounts'), bucket: z.enum(['hour', 'day']),
  from: time.describe("The first bucket's start"), to: time.describe("The last bucket's end (exclusive)"),
  buckets: z.array(z.object({ start: time, ...usageFields })).describe('Every bucket of the span, oldest first'),
  totals: z.object({ ...usageFields, spent_usd: usd('Spent'), refunded_usd: usd('Refunded'), credited_usd: usd('Credited') }),
});

// Payments.
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/).describe('EVM address');
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/).describe('Transaction hash');

export const BuyInstructions = z.looseObject({
  status: success,
  network: z.string().describe('CAIP-2 network id, e.g. eip155:8453 (Base)'),
  chain_id: z.number().int(),
  token: z.object({ symbol: z.literal('USDC'), address, decimals: z.number().int() }),
  receiver: address.describe('Send USDC here, from a linked wallet'),
  rate_micro_usd_per_base_unit: z.string(),
  minimum_amount_base_units: z.string(),
  minimum_amount: z.string(),
  minimum_micro_usd: z.number().int().nullable(),
  confirmations_required: z.number().int(),
  link_wallet: z.looseObject({}),
  x402: z.looseObject({ version: z.number().int(), scheme: z.literal('exact'), network: z.string(), headers: z.array(z.string()) }).optional()
    .describe('Present when x402 top-ups are enabled'),
  steps: z.array(z.string()),
});

export const PurchaseCredited = z.object({
  status: success, tx_hash: hash, credited_micro_usd: z.number().int(), already_credited_micro_usd: z.number().int(), balance_micro_usd: z.number().int(),
  transfers: z.array(z.object({ log_index: z.number().int(), from: address, amount_base_units: z.string(), amount_micro_usd: z.number().int(), credited_now: z.boolean() })),
});
export const TopUpCredited = z.object({ status: success, credited_micro_usd: z.number().int(), balance_micro_usd: z.number().int(), tx_hash: hash, payer: address });
export const PurchasePending = z.object({ status: z.literal('pending'), tx_hash: hash, confirmations: z.number().int(), required: z.number().int(), message: z.string() });
export const WalletLinked = z.object({ status: success, address, linked: z.literal(true), already_linked: z.boolean() });

export const WalletChallenge = z.object({ status: success, challenge: z.string(), expires_at: time, chain_id: z.number().int() });
export const WalletList = z.object({ status: success, wallets: z.array(z.object({ address, linked_at: time })) });

// Wallet sign-up.
export const SignupChallenge = z.object({
  status: success,
  nonce: z.string().describe('Single use: the Nonce of the EIP-4361 message'),
  issued_at: time, expires_at: time.describe('The nonce is refused after this'),
  domain: z.string().describe('The domain the message must name'),
  uri: z.string().describe('A URI the message may name (any URI of `domain` is accepted unless the server fixes one)'),
  chain_id: z.number().int().describe('The Chain ID the message must name'),
  version: z.literal('1'),
  message: z.string().optional().describe('With `?address=`: the EIP-4361 message, ready to sign with personal_sign'),
});
export const SignedUp = z.object({
  status: success,
  account_id: z.string(), address: address.describe('The wallet, linked to the account (its USDC transfers credit it)'),
  api_key: z.string().describe('Shown only here: store it'), key_id: z.string(),
  created: z.boolean().describe('true: this sign-up opened the account; false: a new key for the account the wallet opened before'),
  previous_keys: z.array(z.object({ key_id: z.string(), active: z.boolean(), created_at: time })).describe("The account's other keys, oldest first"),
  fee_micro_usd: micro('The sign-up fee this call paid (0: none)'),
});
