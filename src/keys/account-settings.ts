// An account's own settings (spend caps, balance.low threshold), kept in its catalog record beside its keys.
import type { Store } from '../storage/contract.js';
import { readCatalog, updateCatalog, type AccountSettings } from './key-record.js';

export const SETTING_NAMES = ['daily_spend_cap_micro_usd', 'monthly_spend_cap_micro_usd', 'balance_low_threshold_micro_usd'] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

/** Every setting, null where the account has none of its own. */
export type Settings = Record<SettingName, number | null>;

const shown = (s: AccountSettings | undefined): Settings => ({
  daily_spend_cap_micro_usd: s?.daily_spend_cap_micro_usd ?? null,
  monthly_spend_cap_micro_usd: s?.monthly_spend_cap_micro_usd ?? null,
  balance_low_threshold_micro_usd: s?.balance_low_threshold_micro_usd ?? null,
});

export async function readSettings(store: Store, accountId: string, now: number): Promise<Settings> {
  return shown((await readCatalog(store, accountId, now))?.catalog.settings);
}

/** Applies `patch` (null: back to the default) with compare-and-set; returns the settings after. */
export async function updateSettings(store: Store, accountId: string, patch: Partial<Settings>): Promise<Settings> {
  const next = await updateCatalog(store, accountId, (c) => {
    const catalog = c ?? { created_at: Date.now(), keys: [] };
    const settings: AccountSettings = { ...catalog.settings };
    for (const name of SETTING_NAMES) {
      const v = patch[name];
      if (v === null) delete settings[name];
      else if (v !== undefined) settings[name] = v;
    }
    catalog.settings = settings;
    return catalog;
  });
  return shown(next?.settings);
}
