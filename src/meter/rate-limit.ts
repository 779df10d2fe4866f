// Optional per-key rate limit (requests per fixed window): one atomic counter, apart from the money path.
import type { Store } from '../storage/contract.js';

export interface RateLimitConfig {
  requests: number;
  windowSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** When the current window ends (ms). */
  resetAt: number;
}

export class RateLimiter {
  constructor(
    private readonly store: Store,
    readonly config: RateLimitConfig,
    /** Names the counters, so that limits of different things never share one. */
    private readonly name = 'rate',
  ) {}

  /** Counts one request of `keyId`; the counter's name carries the window so it never needs a reset. */
  async hit(accountId: string, keyId: string, now: number): Promise<RateDecision> {
    const windowMs = this.config.windowSeconds * 1000;
    const index = Math.floor(now / windowMs);
    const resetAt = (index + 1) * windowMs;
    const n = await this.store.incr(accountId, `${this.name}:${keyId}:${index}`, 1, resetAt);
    const { requests } = this.config;
    return { allowed: n <= requests, limit: requests, remaining: Math.max(0, requests - n), windowSeconds: this.config.windowSeconds, resetAt };
  }
}
