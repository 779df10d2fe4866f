// PLACEHOLDER: the native redis implementation of the storage contract (being written).
import type { Keyv } from 'keyv';
import type { Store } from './contract.js';
import type { OpenOptions } from './open.js';

export async function redisStoreFromUrl(_url: string, _opts: OpenOptions): Promise<Store> {
  throw new Error('redis store: not implemented yet');
}

export async function redisStoreFromKeyv(_keyv: Keyv, _opts: OpenOptions): Promise<Store> {
  throw new Error('redis store: not implemented yet');
}
