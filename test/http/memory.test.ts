// HTTP conformance: the article's memory endpoints, identical on every mount.
import { describeMounts } from '../support/mounts.js';
import { memoryConformance } from './memory-suite.js';

describeMounts('memory API', () => ({}), memoryConformance);
