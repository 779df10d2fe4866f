// PLACEHOLDER: the native postgres implementation of the storage contract (being written).
import type { Keyv } from 'keyv';
import type { Store } from './contract.js';
import type { OpenOptions } from './open.js';

export async function postgresStoreFromUrl(_url: string, _opts: OpenOptions): Promise<Store> {
  throw new Error('postgres store: not implemented yet');
}

export async function postgresStoreFromKeyv(_keyv: Keyv, _opts: OpenOptions): Promise<Store> {
  throw new Error('postgres store: not implemented yet');
}
