// The storage conformance suite on the default in-memory Keyv that keeps objects unserialized.
import { Keyv } from 'keyv';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { storageConformance } from './conformance.js';

storageConformance('generic keyv (memory, no serializer)', async () => ({
  store: new KeyvStore(new Keyv({ throwOnErrors: true, serialize: undefined, deserialize: undefined })),
  cleanup: async () => {},
}));
