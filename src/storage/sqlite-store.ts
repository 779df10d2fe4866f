// PLACEHOLDER: the native sqlite implementation of the storage contract (being written).
import type { Keyv } from 'keyv';
import type { Store } from './contract.js';
import type { OpenOptions } from './open.js';

export async function sqliteStoreFromUrl(_url: string, _opts: OpenOptions): Promise<Store> {
  throw new Error('sqlite store: not implemented yet');
}

export async function sqliteStoreFromKeyv(_keyv: Keyv, _opts: OpenOptions): Promise<Store> {
  throw new Error('sqlite store: not implemented yet');
}
