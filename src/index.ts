// Public entry point of the core package (framework-agnostic).
export { createAipaygent, type Aipaygent } from './create.js';
export type { AipaygentOptions } from './config.js';
export { AipaygentError, StoreUnavailableError, STATUS_OF, type ErrorCode } from './errors.js';
export type { CoreRequest, CoreResponse, CoreBody, BodySource } from './http/types.js';
export type { Store, StoreInfo, UsageBucket, UsageInput } from './storage/contract.js';
export type { UsageOptions } from './meter/usage.js';
export type { UsageReport, UsageTotals } from './meter/usage-service.js';
export { nodeRequest, writeNodeResponse, stripPrefix } from './http/node.js';
export type { ClaudeOptions, ModelPriceOption } from './claude/options.js';
export type { ModelPrice, TokenRates } from './claude/prices.js';
export { DEFAULT_PRICES, DEFAULT_PRICES_CHECKED } from './claude/default-prices.js';
