// Where linked wallets are kept, readable without the chain client (and without viem): the admin API lists them.
import type { Store } from '../storage/contract.js';

/** Linked wallets of an account (key: lower-case address; value: JSON {address, linked_at}). */
export const WALLETS_COLLECTION = 'wallets';

export interface LinkedWallet {
  /** EIP-55 checksummed. */
  address: `0x${string}`;
  linkedAt: number;
}

/** The wallets linked to an account, in address order (one store read). */
export async function linkedWallets(store: Store, accountId: string, now: number): Promise<LinkedWallet[]> {
  const records = await store.entries(accountId, WALLETS_COLLECTION, { limit: 1000 }, now);
  return records.map((r) => {
    const v = JSON.parse(Buffer.from(r.value).toString('utf8')) as { address: `0x${string}`; linked_at: number };
    return { address: v.address, linkedAt: v.linked_at };
  });
}
