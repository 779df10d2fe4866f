// Admin route (admin token): usage per hour or day of one account or of all, read from the counters kept with the money.
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import { isAccountId } from '../../keys/api-key.js';
import type { KeyService } from '../../keys/key-service.js';
import { formatUsd } from '../../ledger/money.js';
import { MAX_BUCKETS, type UsageReport as Report, type UsageService, type UsageTotals } from '../../meter/usage-service.js';
import { iso } from '../../time.js';
import { ok, UsageReport } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

/** An ISO 8601 date (UTC midnight) or date-time with its offset, as ms; undefined when it is not one (or no such day). */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
export function parseInstant(s: string): number | undefined {
  const m = INSTANT.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d || mo < 1 || mo > 12) return undefined;
  const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isFinite(ms) ? ms : undefined;
}

const instant = (name: string) =>
  z
    .string()
    .refine((s) => parseInstant(s) !== undefined, {
      error: `${name} must be an ISO 8601 date (2026-12-06, UTC midnight) or date-time with its offset (2026-12-06T13:00:00Z)`,
    })
    .transform((s) => parseInstant(s)!);

export function totalsJson(t: UsageTotals) {
  const tokens: Record<string, { input: number; output: number; cache_read: number; cache_write: number }> = {};
  for (const [model, k] of Object.entries(t.claudeTokens)) tokens[model] = { input: k.input, output: k.output, cache_read: k.cacheRead, cache_write: k.cacheWrite };
  return {
    calls: t.calls, free_calls: t.freeCalls, paid_calls: t.paidCalls, refunded_calls: t.refundedCalls,
    spent_micro_usd: t.spentMicroUsd, refunded_micro_usd: t.refundedMicroUsd, credited_micro_usd: t.creditedMicroUsd, claude_tokens: tokens,
  };
}

/** A usage report as the admin API shows it. */
export function usageJson(r: Report) {
  const totals = totalsJson(r.totals);
  return {
    status: 'success', account_id: r.accountId, bucket: r.bucket, from: iso(r.from), to: iso(r.to),
    buckets: r.buckets.map((b) => ({ start: iso(b.start), ...totalsJson(b) })),
    totals: { ...totals, spent_usd: formatUsd(totals.spent_micro_usd), refunded_usd: formatUsd(totals.refunded_micro_usd), credited_usd: formatUsd(totals.credited_micro_usd) },
  };
}

export function adminUsageRoutes(deps: { usage: UsageService; keys: Pick<KeyService, 'hasKeys'> }): Route[] {
  return [
    route({
      method: 'GET', path: '/admin/usage', auth: 'admin', metered: false,
      summary: 'Usage per hour or day of one account, or summed over all accounts: calls (free, paid, refunded), spend, credit, Claude tokens.',
      description:
        'Counted in the same store operation as the money they count, so they agree with the ledger. Buckets are UTC hours or days; ' +
        '`from` and `to` name instants inside the first and last bucket (default: the last 24 hours, or the last 30 days with ' +
        `\`bucket=day\`). At most ${MAX_BUCKETS.hour} hour buckets or ${MAX_BUCKETS.day} day buckets per request. Without \`account_id\`, ` +
        'the sum over every account with usage in the span (revenue: `spent_micro_usd - refunded_micro_usd`).',
      query: z.object({
        account_id: z.string().refine(isAccountId, { error: 'account_id is not an account id (acct_…)' }).optional(),
        from: instant('from').optional(),
        to: instant('to').optional(),
        bucket: z.enum(['hour', 'day'], { error: 'bucket must be hour or day' }).optional(),
      }),
      responses: { 200: ok('Usage per bucket, oldest first, and its totals', UsageReport) },
      errors: ['not_found'],
      async handle({ query, now }) {
        const range = deps.usage.range({ from: query.from, to: query.to, bucket: query.bucket }, now);
        deps.usage.ensureCounting();
        const accountId = query.account_id ?? null;
        if (accountId !== null && !(await deps.keys.hasKeys(accountId, now))) throw new AipaygentError('not_found', `No account "${accountId}" (it has no API keys)`);
        return json(200, usageJson(await deps.usage.report(accountId, range, now)));
      },
    }),
  ];
}
