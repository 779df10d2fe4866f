// The memory HTTP conformance suite on Redis, Postgres and SQLite (one mount each).
import { describeBackends } from '../support/mounts.js';
import { memoryConformance } from './memory-suite.js';

await describeBackends('memory API', memoryConformance);
