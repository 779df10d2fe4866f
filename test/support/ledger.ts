// The whole ledger of an account through the in-process API, newest first, page by page.
import type { Aipaygent } from '../../src/create.js';
import type { LedgerEntry } from '../../src/storage/contract.js';

export async function allEntries(ai: Aipaygent, account: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (;;) {
    const page = await ai.api.ledger.entries(account, { limit: 500, before: out.at(-1)?.seq });
    out.push(...page);
    if (page.length < 500) return out;
  }
}
