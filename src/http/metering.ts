// The key-route stage of the pipeline: verify the key, rate limit, Idempotency-Key, charge, run the handler, refund on failure.
import { AipaygentError, unauthorized } from '../errors.js';
import type { ChargeCredential, KeyService } from '../keys/key-service.js';
import { allows, missingScope, type Scope } from '../keys/scopes.js';
import type { Charge, ChargeOutcome, Meter } from '../meter/meter.js';
import type { RateDecision, RateLimiter } from '../meter/rate-limit.js';
import { bodyMatches, digestingBody, withBody, type DigestingBody } from './body-digest.js';
import { conflict, DIFFERENT_REQUEST, fingerprint, idempotencyKeyOf, STREAMED_BODY, type Idempotency } from './idempotency.js';
import { errorResponse, type Logger } from './respond.js';
import type { Route, RouteContext } from './route.js';
import type { CoreRequest, CoreResponse } from './types.js';

/** Pays one fixed-price call on the spot (x402), plugged in by the payments module. */
export interface PayPerCall {
  /** Headers added to the 402 of a call costing `price` micro-USD (PAYMENT-REQUIRED). */
  challenge(price: number, route: Route, req: CoreRequest): Record<string, string>;
  /**
   * undefined when the request carries no payment; else credits at least `price` to the account
   * once the payment is settled (or throws the 4xx/402/502), and returns headers for the answer.
   */
  pay(accountId: string, req: CoreRequest, price: number, route: Route, now: number): Promise<Record<string, string> | undefined>;
}

export interface MeteringDeps {
  keys: Pick<KeyService, 'authenticate' | 'chargeAuth'>;
  meter: Meter;
  limiter: RateLimiter | undefined;
  idempotency: Idempotency;
  /** micro-USD per call of each `metered: true` route, by route path. */
  pricing: Readonly<Record<string, number>>;
  logger: Logger;
  /** x402: a call that free calls and the balance cannot pay may be paid by the request itself. */
  payPerCall?: PayPerCall | undefined;
  /** A replayed streamed body is read (to compare it) within this time, as any body we read. */
  bodyTimeoutMs: number;
}

export const BALANCE_HEADER = 'x-credits-balance-micro-usd';

/**
 * A metered call gives back what it took when it failed on our side (5xx), or when the handler
 * rejected the input itself (400, 413, 415): such a request did no work and must cost nothing.
 */
export const isRefunded = (status: number): boolean => status >= 500 || status === 400 || status === 413 || status === 415;

const REFUND_PENDING_MESSAGE =
  'This call failed and the storage backend did not confirm its refund yet: the refund is retried in the background ' +
  'and applies once (see /credits/ledger). Retry shortly.';

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** RateLimit / RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers-11: a List of String items). */
function quotaHeaders(now: number, free: { limit: number; remaining: number; resetAt: number } | undefined, rate: RateDecision | undefined): Record<string, string> {
  // The common case (every metered call without a rate limit) without building lists.
  if (free && !rate) return { 'ratelimit-policy': `"free";q=${free.limit};w=86400`, ratelimit: `"free";r=${free.remaining};t=${seconds(free.resetAt - now)}` };
  const policy: string[] = [];
  const state: string[] = [];
  if (free) {
    policy.push(`"free";q=${free.limit};w=86400`);
    state.push(`"free";r=${free.remaining};t=${seconds(free.resetAt - now)}`);
  }
  if (rate) {
    policy.push(`"rate";q=${rate.limit};w=${rate.windowSeconds}`);
    state.push(`"rate";r=${rate.remaining};t=${seconds(rate.resetAt - now)}`);
  }
  return policy.length ? { 'ratelimit-policy': policy.join(', '), ratelimit: state.join(', ') } : {};
}

/** Every route with `metered: true` must have a price: checked once at startup, never discovered per request. */
export function checkPricing(routes: readonly Route[], pricing: Readonly<Record<string, number>>): void {
  for (const r of routes) {
    if (r.metered === true && !Number.isSafeInteger(pricing[r.path])) throw new TypeError(`aipaygent: metered route ${r.path} has no price`);
  }
}

/**
 * The stage core.ts calls for every key-authenticated route (rawBody: the JSON body before
 * validation; apiKey: the well-formed key presented, not yet verified: this stage verifies it).
 */
export type Metering = (route: Route, ctx: RouteContext, rawBody: unknown, apiKey: string) => Promise<CoreResponse>;

const INVALID_KEY = 'Invalid or revoked API key';

export function createMetering(deps: MeteringDeps): Metering {
  const { keys, meter, limiter, idempotency, pricing, logger, payPerCall } = deps;

  /** Releases an Idempotency-Key taken for a call that ends without a response worth replaying. */
  async function abandon(accountId: string, idemKey: string | undefined): Promise<void> {
    if (idemKey !== undefined) await idempotency.abandon(accountId, idemKey).catch((e: unknown) => logger.error('aipaygent: could not release an Idempotency-Key', e));
  }

  /**
   * Claims the Idempotency-Key, or answers a replay. A route without a JSON body schema streams its
   * body itself (NDJSON import): its fingerprint leaves the body out, the body is digested while the
   * route reads it (`digesting`, installed as ctx.req's body), and a replay is answered only once this
   * request's body was read and matched the digest kept with the response (else 409, like a JSON body).
   */
  async function beginIdempotent(route: Route, ctx: RouteContext, rawBody: unknown, accountId: string, idemKey: string) {
    const streamed = route.body === undefined;
    const fp = fingerprint(route.method, route.path, ctx.req.query, streamed ? STREAMED_BODY : rawBody);
    const begun = await idempotency.begin(accountId, idemKey, fp, ctx.now);
    if (begun.kind === 'replay') {
      if (streamed && (begun.bodyDigest === undefined || !(await bodyMatches(ctx.req.body, begun.bodyDigest, deps.bodyTimeoutMs)))) throw conflict(DIFFERENT_REQUEST);
      return begun;
    }
    const digesting = streamed ? digestingBody(ctx.req.body) : undefined;
    if (digesting) ctx.req = withBody(ctx.req, digesting.body); // ctx belongs to this request alone
    return { kind: 'new' as const, fp, digesting };
  }

  /** The meter's charge; a key that `auth` does not verify took nothing and is refused (see `refusal`). `keyId`: the caller's key (its last use). */
  async function take(accountId: string, price: number, now: number, memo: string, unverified: ChargeCredential | undefined, keyId: string) {
    const taken = await meter.charge(accountId, price, now, memo, unverified?.auth, keyId);
    if ('unauthorized' in taken) throw await refusal(unverified!, now);
    return taken;
  }

  /**
   * Why the charge refused a key that carried the route's scope: the key is read on its own (this slow
   * path runs on refusals only) to answer 403 naming the scope when it is valid but lacks it, else 401.
   */
  async function refusal(credential: ChargeCredential, now: number): Promise<AipaygentError> {
    const scope = credential.auth.scope as Scope | undefined;
    const caller = scope === undefined ? undefined : await keys.authenticate(credential.apiKey, now);
    return caller?.scopes && !allows(caller.scopes, scope) ? missingScope(scope!, caller.scopes) : unauthorized(INVALID_KEY);
  }

  /** RateLimit-Policy of the free quota: the same on every answer. */
  const freePolicy = `"free";q=${meter.freeCallsPerDay};w=86400`;

  /** The ledger memo of a route's calls ("GET /memory/retrieve"), made once per route. */
  const memos = new Map<Route, string>();
  const memoOf = (route: Route): string => {
    let memo = memos.get(route);
    if (memo === undefined) memos.set(route, (memo = `${route.method} ${route.path}`));
    return memo;
  };

  async function runHandler(route: Route, ctx: RouteContext): Promise<CoreResponse> {
    try {
      return await route.handle(ctx);
    } catch (error) {
      return errorResponse(error, logger);
    }
  }

  /**
   * Neither a free call nor the balance paid: the request may pay itself (x402), else 402. Returns the
   * outcome of the charge made once the request's payment was credited, with the payment's headers.
   */
  async function unpaid(
    route: Route, ctx: RouteContext, accountId: string, price: number, outcome: Extract<ChargeOutcome, { ok: false; price: number }>,
    rate: RateDecision | undefined, idemKey: string | undefined, unverified: ChargeCredential | undefined,
  ): Promise<{ outcome: Extract<ChargeOutcome, { ok: true }>; paidHeaders: Record<string, string> }> {
    const { now, req } = ctx;
    let paidHeaders: Record<string, string> | undefined;
    let last: ChargeOutcome = outcome;
    try {
      // Paid by the request (x402): settled and credited first, then charged like any other call.
      // A spend cap is not lifted by money: paying this call with x402 would credit the account and still be refused.
      if (payPerCall && price > 0 && outcome.cap === undefined) {
        paidHeaders = await payPerCall.pay(accountId, req, price, route, now);
        if (paidHeaders) last = await take(accountId, price, now, memoOf(route), unverified, (unverified?.claimed ?? ctx.caller).keyId);
      }
    } catch (error) {
      await abandon(accountId, idemKey);
      throw error;
    }
    if (last.ok) return { outcome: last, paidHeaders: paidHeaders! };
    await abandon(accountId, idemKey);
    const refused = last as Extract<ChargeOutcome, { ok: false; price: number }>;
    const free = { limit: meter.freeCallsPerDay, remaining: refused.freeRemaining, resetAt: refused.resetAt };
    const x402 = payPerCall && price > 0 && refused.cap === undefined ? payPerCall.challenge(price, route, req) : undefined;
    throw await meter.paymentRequired(accountId, refused, { ...quotaHeaders(now, free, rate), [BALANCE_HEADER]: String(refused.balance), ...x402, ...paidHeaders }, x402 !== undefined);
  }

  /** A call that failed on our side (or rejected its input itself) gives back what it took: its charge is voided. */
  async function refunded(route: Route, accountId: string, charge: Charge, res: CoreResponse, now: number): Promise<{ charge: Charge; res: CoreResponse }> {
    try {
      return { charge: await meter.refund(accountId, charge, now, `refund: ${memoOf(route)} answered ${res.status}`), res };
    } catch (error) {
      // The void waits in the meter's queue (it is idempotent: a retry never gives back twice). The client
      // must not read "nothing was charged" while the store has not confirmed it.
      const pending = Object.assign(new AipaygentError('store_unavailable', REFUND_PENDING_MESSAGE), { cause: error });
      return { charge, res: errorResponse(pending, logger) };
    }
  }

  /**
   * `unverified`: the key has not been checked yet; the charge checks it in the same store operation,
   * and its claimed caller is acted for only once that charge said yes. Else ctx.caller is verified.
   * The usual call (free call or debit, handler, headers) stays in this function; the rare paths
   * (Idempotency-Key, 402 / x402, refund) are their own functions.
   */
  async function metered(
    route: Route, ctx: RouteContext, rawBody: unknown, rate: RateDecision | undefined, idemKey: string | undefined, unverified?: ChargeCredential,
  ): Promise<CoreResponse> {
    const caller = unverified?.claimed ?? ctx.caller;
    const { accountId } = caller;
    const { now } = ctx;
    let fp = '';
    let digesting: DigestingBody | undefined;
    if (idemKey !== undefined) {
      const begun = await beginIdempotent(route, ctx, rawBody, accountId, idemKey);
      if (begun.kind === 'replay') return begun.response;
      ({ fp, digesting } = begun);
    }
    const price = route.metered === 'tokens' ? 0 : pricing[route.path]!;
    let outcome: ChargeOutcome;
    try {
      // take() inlined: one async frame and one promise less on every metered call.
      outcome = await meter.charge(accountId, price, now, memoOf(route), unverified?.auth, caller.keyId);
      if ('unauthorized' in outcome) throw await refusal(unverified!, now);
    } catch (error) {
      await abandon(accountId, idemKey);
      throw error;
    }
    let paidHeaders: Record<string, string> | undefined;
    if (!outcome.ok) ({ outcome, paidHeaders } = await unpaid(route, ctx, accountId, price, outcome as Extract<ChargeOutcome, { ok: false; price: number }>, rate, idemKey, unverified));
    let charge: Charge = (outcome as Extract<ChargeOutcome, { ok: true }>).charge;
    // ctx belongs to this request alone: completed in place rather than copied.
    ctx.caller = caller;
    ctx.charge = charge;
    let res: CoreResponse;
    try {
      res = await route.handle(ctx);
    } catch (error) {
      res = errorResponse(error, logger);
    }
    if (isRefunded(res.status)) {
      ({ charge, res } = await refunded(route, accountId, charge, res, now));
      await abandon(accountId, idemKey);
    } else if (idemKey !== undefined) {
      const bodyDigest = digesting?.digest();
      // A streamed body the route did not read to its end (the client went away) has no digest to check a retry
      // against: the key is released, so a retry runs anew rather than replaying an answer to part of a body.
      if (digesting && bodyDigest === undefined) await abandon(accountId, idemKey);
      else await idempotency.complete(accountId, idemKey, fp, res, now, bodyDigest).catch((e: unknown) => logger.error('aipaygent: could not store an idempotent response', e));
    }
    // Token-billed handlers may set the balance after their settle; theirs wins.
    const balance = BALANCE_HEADER in res.headers ? res.headers[BALANCE_HEADER]! : String(charge.balance);
    if (rate || paidHeaders) {
      const quota = quotaHeaders(now, { limit: meter.freeCallsPerDay, remaining: charge.freeRemaining, resetAt: charge.resetAt }, rate);
      return { status: res.status, headers: Object.assign({}, res.headers, quota, { [BALANCE_HEADER]: balance }, paidHeaders), body: res.body };
    }
    // The usual answer (the same fields quotaHeaders gives without a rate limit). Object.assign, not
    // `{ ...res.headers, more }`: on Node 20 a literal that adds properties after a spread costs ~0.7 µs per property.
    const ratelimit = `"free";r=${charge.freeRemaining};t=${seconds(charge.resetAt - now)}`;
    return { status: res.status, headers: Object.assign({}, res.headers, { 'ratelimit-policy': freePolicy, ratelimit, [BALANCE_HEADER]: balance }), body: res.body };
  }

  /** The key verified on its own first (rate limit, Idempotency-Key, unmetered routes, a Store without chargeAuth). */
  async function verifiedFirst(route: Route, ctx: RouteContext, rawBody: unknown, apiKey: string, idemKey: string | undefined, more: Scope[] = []): Promise<CoreResponse> {
    const caller = await keys.authenticate(apiKey, ctx.now);
    if (!caller) throw unauthorized(INVALID_KEY);
    if (caller.scopes) {
      for (const scope of [route.scope, ...more]) if (!allows(caller.scopes, scope)) throw missingScope(scope!, caller.scopes);
    }
    ctx.caller = caller; // ctx belongs to this request alone
    let rate: RateDecision | undefined;
    if (limiter) {
      rate = await limiter.hit(ctx.caller.accountId, ctx.caller.keyId, ctx.now);
      if (!rate.allowed) {
        const retryAfter = String(Math.max(1, Math.ceil((rate.resetAt - ctx.now) / 1000)));
        throw new AipaygentError(
          'rate_limited',
          `Rate limit exceeded: at most ${rate.limit} requests per ${rate.windowSeconds} s per API key; retry in ${retryAfter} s`,
          undefined,
          { ...quotaHeaders(ctx.now, undefined, rate), 'retry-after': retryAfter },
        );
      }
    }
    if (!route.metered) {
      const res = await runHandler(route, ctx);
      return rate ? { status: res.status, headers: Object.assign({}, res.headers, quotaHeaders(ctx.now, undefined, rate)), body: res.body } : res;
    }
    return metered(route, ctx, rawBody, rate, idemKey);
  }

  /** Runs a key-authenticated route: verifies the key, then the rate limit for all of them, the meter for metered ones. */
  return function run(route, ctx, rawBody, apiKey) {
    const idemKey = route.metered && route.method === 'POST' ? idempotencyKeyOf(ctx.req.headers) : undefined;
    // A metered call verifies its key inside the charge: one store operation, no round trip of its own.
    // A rate limit and an Idempotency-Key act on the account BEFORE the charge (a forged key must neither
    // spend someone's rate limit nor be shown their stored response): then the key is verified first, alone,
    // as it is with a Store that cannot check keys in `charge` (it would ignore the check: never trust it blindly).
    const more = route.moreScopes?.(rawBody, ctx.req.headers) ?? [];
    const fused = route.metered && !limiter && idemKey === undefined && meter.verifiesKeys && more.length === 0;
    const credential = fused ? keys.chargeAuth(apiKey, route.scope) : undefined;
    return credential ? metered(route, ctx, rawBody, undefined, undefined, credential) : verifiedFirst(route, ctx, rawBody, apiKey, idemKey, more);
  };
}
