// The memory options: defaults, one error listing every problem, and their environment variables.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING, parseOptions } from '../../src/config.js';
import { optionsFromEnv } from '../../src/env.js';

describe('memory options', () => {
  it('default to 10 versions, no sliding TTL, 64 MiB imports, and a price for every new route', () => {
    const c = parseOptions({});
    expect(c.memory).toMatchObject({ historyVersions: 10, refreshOnRead: false, maxImportBytes: 64 * 1024 * 1024 });
    for (const path of ['/memory/append', '/memory/patch', '/memory/history', '/memory/restore', '/memory/export', '/memory/import'] as const) {
      expect(DEFAULT_PRICING[path]).toBe(100);
    }
  });

  it('list every bad memory option in one error', () => {
    expect(() => parseOptions({ memory: { historyVersions: -1, refreshOnRead: 'yes' as never, maxImportBytes: 10 } })).toThrow(
      /memory\.historyVersions must be an integer between 0 and 100[\s\S]*memory\.maxImportBytes must be an integer between 1024[\s\S]*memory\.refreshOnRead must be true or false/,
    );
  });

  it('come from AIPAYGENT_HISTORY_VERSIONS, AIPAYGENT_REFRESH_ON_READ and AIPAYGENT_MAX_IMPORT_BYTES', () => {
    const o = optionsFromEnv({ AIPAYGENT_HISTORY_VERSIONS: '0', AIPAYGENT_REFRESH_ON_READ: 'true', AIPAYGENT_MAX_IMPORT_BYTES: '2048' });
    expect(o.memory).toEqual({ historyVersions: 0, refreshOnRead: true, maxImportBytes: 2048 });
    expect(parseOptions(o).memory).toMatchObject({ historyVersions: 0, refreshOnRead: true, maxImportBytes: 2048 });
    expect(optionsFromEnv({}).memory).toEqual({ historyVersions: undefined, refreshOnRead: undefined, maxImportBytes: undefined });
  });
});
