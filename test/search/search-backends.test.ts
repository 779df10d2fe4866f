// The search HTTP suite on Redis, Postgres and SQLite (one mount each).
import { describeBackends } from '../support/mounts.js';
import { searchConformance } from './search-suite.js';

await describeBackends('memory search', searchConformance);
