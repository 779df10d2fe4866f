// Admin routes of an account's settings (admin token): its own spend caps and balance.low threshold.
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import { isAccountId } from '../../keys/api-key.js';
import { readSettings, SETTING_NAMES, updateSettings, type Settings } from '../../keys/account-settings.js';
import type { MoneyRules } from '../../meter/money-rules.js';
import type { CapLimits } from '../../meter/spend-caps.js';
import type { Store } from '../../storage/contract.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { capField } from './admin-keys.js';

const setting = (what: string) => z.number().int().nullable().describe(`${what} in micro-USD; null: none of its own (the default applies)`);
const SettingsShape = {
  daily_spend_cap_micro_usd: setting('What all its calls may spend per UTC day'),
  monthly_spend_cap_micro_usd: setting('What all its calls may spend per UTC month'),
  balance_low_threshold_micro_usd: setting('balance.low fires when a debit takes the balance below this'),
};
const AccountSettings = z.object({
  status: z.literal('success'), account_id: z.string(), settings: z.object(SettingsShape),
  defaults: z.object(SettingsShape).describe("The server's defaults (options spendCaps, balanceLowThresholdMicroUsd)"),
});

export interface SettingsDeps {
  store: Store;
  rules: MoneyRules;
  hasAccount(accountId: string, now: number): Promise<boolean>;
  defaults: { caps: CapLimits; balanceLow: number | undefined };
}

export function adminSettingsRoutes(deps: SettingsDeps): Route[] {
  const defaults: Settings = {
    daily_spend_cap_micro_usd: deps.defaults.caps.account_daily ?? null, monthly_spend_cap_micro_usd: deps.defaults.caps.account_monthly ?? null,
    balance_low_threshold_micro_usd: deps.defaults.balanceLow ?? null,
  };
  async function existing(accountId: string, now: number): Promise<string> {
    if (!isAccountId(accountId) || !(await deps.hasAccount(accountId, now))) throw new AipaygentError('not_found', `No account "${accountId}"`);
    return accountId;
  }
  const answer = (accountId: string, settings: Settings) => json(200, { status: 'success', account_id: accountId, settings, defaults });
  return [
    route({
      method: 'GET', path: '/admin/accounts/:account_id/settings', auth: 'admin', metered: false,
      summary: "An account's own spend caps and balance.low threshold, and the server's defaults.",
      responses: { 200: ok('The settings', AccountSettings) },
      errors: ['not_found'],
      async handle({ params, now }) {
        const accountId = await existing(params.account_id!, now);
        return answer(accountId, await readSettings(deps.store, accountId, now));
      },
    }),
    route({
      method: 'PATCH', path: '/admin/accounts/:account_id/settings', auth: 'admin', metered: false,
      summary: "Sets an account's spend caps (per UTC day and month, all its keys together) and balance.low threshold; null restores the default.",
      description: 'Fields left out keep their value. Caps are checked inside each charge; another process applies a change within 10 seconds.',
      body: z.object({
        daily_spend_cap_micro_usd: capField('daily_spend_cap_micro_usd').nullable().optional(),
        monthly_spend_cap_micro_usd: capField('monthly_spend_cap_micro_usd').nullable().optional(),
        balance_low_threshold_micro_usd: capField('balance_low_threshold_micro_usd').nullable().optional(),
      }).strict(),
      responses: { 200: ok('The settings after the change', AccountSettings) },
      errors: ['not_found'],
      async handle({ params, body, now }) {
        const accountId = await existing(params.account_id!, now);
        if (typeof body.daily_spend_cap_micro_usd === 'number' || typeof body.monthly_spend_cap_micro_usd === 'number') deps.rules.refuseUnenforced();
        const patch: Partial<Settings> = {};
        for (const name of SETTING_NAMES) if (body[name] !== undefined) patch[name] = body[name];
        const settings = await updateSettings(deps.store, accountId, patch);
        deps.rules.forget(accountId);
        return answer(accountId, settings);
      },
    }),
  ];
}
