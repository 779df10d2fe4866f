// The search HTTP suite on every mount (in-memory store).
import { describeMounts } from '../support/mounts.js';
import { searchConformance } from './search-suite.js';

describeMounts('memory search', () => ({}), searchConformance);
