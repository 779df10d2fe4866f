// The storage conformance suite on the generic Keyv store (default in-memory Map).
import { Keyv } from 'keyv';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { storageConformance } from './conformance.js';

storageConformance('generic keyv (memory)', async () => ({
  store: new KeyvStore(new Keyv({ throwOnErrors: true })),
  cleanup: async () => {},
}));
