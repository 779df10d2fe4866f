// The HTTP headers of the contract, documented once: routes name them, openapi.ts turns them into components.

/** Headers a route may read (request) or answer (response), by lower-case name. */
export const HEADER_DOCS = {
  // Response headers.
  ratelimit: {
    in: 'response', name: 'RateLimit',
    description: 'Quota state (IETF draft-ietf-httpapi-ratelimit-headers): `"free";r=<free calls left today>;t=<seconds to reset>`, ' +
      'and `"rate";r=…;t=…` when a per-key rate limit is configured.',
  },
  'ratelimit-policy': {
    in: 'response', name: 'RateLimit-Policy',
    description: 'Quota policies: `"free";q=<free calls per day>;w=86400`, and `"rate";q=<requests>;w=<window seconds>` when a rate limit is configured.',
  },
  'x-credits-balance-micro-usd': {
    in: 'response', name: 'X-Credits-Balance-Micro-USD', integer: true,
    description: "The account's credit balance after this call, in integer micro-USD (1 USD = 1000000).",
  },
  'x-cost-micro-usd': {
    in: 'response', name: 'X-Cost-Micro-USD', integer: true,
    description: 'What this Claude call was charged, in integer micro-USD (0 when a free call paid it). Streams report it in a final SSE comment instead.',
  },
  etag: { in: 'response', name: 'ETag', description: 'Version tag of the memory; send it back in If-Match to update only that version.' },
  'retry-after': { in: 'response', name: 'Retry-After', integer: true, description: 'Seconds to wait before retrying.' },
  'www-authenticate': { in: 'response', name: 'WWW-Authenticate', description: 'The authentication scheme: `Bearer realm="aipaygent"`.' },
  'payment-required': {
    in: 'response', name: 'PAYMENT-REQUIRED',
    description: 'x402 v2: base64 JSON of the payment requirements (scheme `exact`, network, asset, amount, payTo). Pay and retry with PAYMENT-SIGNATURE.',
  },
  'payment-response': { in: 'response', name: 'PAYMENT-RESPONSE', description: 'x402 v2: base64 JSON of the settlement (success, transaction hash, network, payer).' },
  'request-id': { in: 'response', name: 'request-id', description: "Anthropic's id of the upstream request, for support." },
  'x-memory-keys': { in: 'response', name: 'X-Memory-Keys', description: 'Memory-aware calls: the keys injected into the system prompt (comma-separated, percent-encoded).' },
  'x-memory-truncated': { in: 'response', name: 'X-Memory-Truncated', description: 'Memory-aware calls: what the token budget cut or left out.' },
  'x-memory-tool-steps': { in: 'response', name: 'X-Memory-Tool-Steps', integer: true, description: "Memory tool run on the server: the upstream calls made." },
  'x-memory-tool-stopped': { in: 'response', name: 'X-Memory-Tool-Stopped', description: 'Memory tool run on the server: why it stopped early (`step_limit`, `payment_required`, `client_tool`).' },
  // Request headers.
  'if-match': { in: 'request', name: 'If-Match', description: 'Apply the write only if the memory still has this ETag (else 412 precondition_failed).' },
  'if-none-match': { in: 'request', name: 'If-None-Match', description: '`*`: create only when absent (else 412 precondition_failed).' },
  'idempotency-key': {
    in: 'request', name: 'Idempotency-Key',
    description: 'Up to 255 visible ASCII characters: a retried POST with the same key and body replays the first answer for 24 h and is charged once.',
  },
  'payment-signature': { in: 'request', name: 'PAYMENT-SIGNATURE', description: 'x402 v2: base64 JSON of the signed payment payload (EIP-3009 authorization) answering a PAYMENT-REQUIRED.' },
  'anthropic-beta': { in: 'request', name: 'anthropic-beta', description: 'Forwarded to Anthropic unchanged (beta features); a beta outside the claude.betas option, when set, is a 400.' },
  'anthropic-version': { in: 'request', name: 'anthropic-version', description: "Forwarded to Anthropic (the SDK's own when absent)." },
  'x-aipaygent-memory-user': { in: 'request', name: 'x-aipaygent-memory-user', description: 'Memory-aware calls (SDK users): whose memories to inject (percent-encoded user_id).' },
  'x-aipaygent-memory-keys': { in: 'request', name: 'x-aipaygent-memory-keys', description: 'Memory-aware calls: the keys to inject (comma-separated, percent-encoded).' },
  'x-aipaygent-memory-prefix': { in: 'request', name: 'x-aipaygent-memory-prefix', description: 'Memory-aware calls: inject the keys with this prefix.' },
  'x-aipaygent-memory-max-tokens': { in: 'request', name: 'x-aipaygent-memory-max-tokens', integer: true, description: 'Memory-aware calls: token budget of the injected memories.' },
} as const satisfies Record<string, { in: 'request' | 'response'; name: string; description: string; integer?: boolean }>;

export type DocHeader = keyof typeof HEADER_DOCS;
