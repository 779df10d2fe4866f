// The memory tool's commands and path rules, run against a real store (the in-memory Keyv store).
import { Keyv } from 'keyv';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryFiles, prettyLength } from '../../src/claude/memory-files.js';
import { parseMemoryPath } from '../../src/claude/memory-paths.js';
import { formatSize, MAX_LISTED_OCCURRENCES, MemoryTool } from '../../src/claude/memory-tool.js';
import { MemoryService } from '../../src/memory/memory-service.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';

const quiet = { warn: () => {}, error: () => {} };
const owner = { accountId: 'acct_1', userId: 'user_1' };
let memory: MemoryService;
let tool: MemoryTool;

function build(maxListedFiles = 500): void {
  const store = new KeyvStore(new Keyv({ throwOnErrors: true }));
  memory = new MemoryService(store, {
    maxValueBytes: 4096, compressAboveBytes: 1024, defaultTtlDays: 30, maxTtlDays: 3650, historyVersions: 5, refreshOnRead: false, maxImportBytes: 1 << 20,
  }, quiet);
  tool = new MemoryTool(new MemoryFiles(memory, store, quiet), 64, maxListedFiles);
}
beforeEach(() => build());

const run = (input: Record<string, unknown>) => tool.run(owner, input, Date.now());
const value = async (key: string) => {
  const found = await memory.get(owner.accountId, owner.userId, key, Date.now(), false);
  return found && JSON.parse(found.json);
};

describe('memory tool commands', () => {
  it('create stores the file text as a JSON string under the key, and refuses to overwrite', async () => {
    expect(await run({ command: 'create', path: '/memories/notes/todo.md', file_text: '- milk\n- eggs' })).toEqual({ content: 'File created successfully at: /memories/notes/todo.md', isError: false });
    expect(await value('notes/todo.md')).toBe('- milk\n- eggs');
    const again = await run({ command: 'create', path: '/memories/notes/todo.md', file_text: 'x' });
    expect(again).toEqual({ content: 'File /memories/notes/todo.md already exists', isError: true });
    expect(await value('notes/todo.md')).toBe('- milk\n- eggs');
    expect((await run({ command: 'create', path: '/memories/notes', file_text: 'x' })).content).toBe('Cannot create /memories/notes: it is a directory');
    expect((await run({ command: 'create', path: '/memories/big', file_text: 'x'.repeat(5000) })).content).toMatch(/^The file \/memories\/big would be too large: data is 5002 bytes of JSON; the limit is 4096$/);
    expect((await run({ command: 'create', path: '/memories/a' })).content).toBe('create needs "file_text", a string');
  });

  it('view shows a file with line numbers (whole or a range) and a directory two levels deep with sizes (bytes of the stored JSON)', async () => {
    await run({ command: 'create', path: '/memories/notes/todo.md', file_text: 'one\ntwo\nthree' });
    await run({ command: 'create', path: '/memories/notes/deep/er/file.md', file_text: 'x'.repeat(2046) });
    await run({ command: 'create', path: '/memories/prefs.md', file_text: 'tabs' });
    await run({ command: 'create', path: '/memories/.hidden', file_text: 'secret' });
    expect((await run({ command: 'view', path: '/memories/notes/todo.md' })).content).toBe(
      "Here's the content of /memories/notes/todo.md with line numbers:\n     1\tone\n     2\ttwo\n     3\tthree",
    );
    expect((await run({ command: 'view', path: '/memories/notes/todo.md', view_range: [2, -1] })).content).toBe(
      "Here's the content of /memories/notes/todo.md with line numbers:\n     2\ttwo\n     3\tthree",
    );
    expect((await run({ command: 'view', path: '/memories/notes/todo.md', view_range: [3, 1] })).isError).toBe(true);
    expect((await run({ command: 'view', path: '/memories' })).content).toBe([
      "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items and node_modules:",
      '2.0K\t/memories', '2.0K\t/memories/notes/', '2K\t/memories/notes/deep/', '17B\t/memories/notes/todo.md', '6B\t/memories/prefs.md',
    ].join('\n'));
    expect((await run({ command: 'view', path: '/memories/notes/' })).content).toContain('2K\t/memories/notes/deep/er/\n');
    expect(await run({ command: 'view', path: '/memories/nothing' })).toEqual({ content: 'The path /memories/nothing does not exist. Please provide a valid path.', isError: true });
    expect(formatSize(1536)).toBe('1.5K');
  });

  it('view of an empty memory directory lists only the root; a listing stops at maxListedFiles with a note', async () => {
    expect((await run({ command: 'view', path: '/memories' })).content).toMatch(/\n0B\t\/memories$/);
    build(2);
    for (const n of ['a', 'b', 'c']) await run({ command: 'create', path: `/memories/${n}`, file_text: n });
    const listing = (await run({ command: 'view', path: '/memories' })).content;
    expect(listing).toContain('/memories/b');
    expect(listing).not.toContain('/memories/c');
    expect(listing).toMatch(/Only the first 2 files were listed/);
  });

  it('JSON memories stored through the memory API read as pretty JSON and edits must keep them JSON', async () => {
    await memory.put(owner.accountId, { userId: owner.userId, key: 'coding_preferences', data: { language: 'Python', style: 'functional' } }, Date.now());
    expect((await run({ command: 'view', path: '/memories/coding_preferences' })).content).toContain('     2\t  "language": "Python",');
    expect((await run({ command: 'str_replace', path: '/memories/coding_preferences', old_str: '"Python"', new_str: '"TypeScript"' })).isError).toBe(false);
    expect(await value('coding_preferences')).toEqual({ language: 'TypeScript', style: 'functional' });
    const broken = await run({ command: 'str_replace', path: '/memories/coding_preferences', old_str: '"TypeScript"', new_str: 'TypeScript' });
    expect(broken).toMatchObject({ isError: true, content: expect.stringMatching(/would leave invalid JSON/) });
    expect(await value('coding_preferences')).toEqual({ language: 'TypeScript', style: 'functional' });
  });

  it('an edit of a JSON memory may not leave a number JSON cannot hold (stored as null) nor nesting deeper than a store accepts', async () => {
    await memory.put(owner.accountId, { userId: owner.userId, key: 'j', data: { n: 1 } }, Date.now());
    const huge = await run({ command: 'str_replace', path: '/memories/j', old_str: '"n": 1', new_str: '"n": 1e400' });
    expect(huge).toEqual({ isError: true, content: expect.stringMatching(/^The result has a number out of range at \/n /) });
    const deep = await run({ command: 'str_replace', path: '/memories/j', old_str: '"n": 1', new_str: `"n": ${'['.repeat(5000)}${']'.repeat(5000)}` });
    expect(deep).toEqual({ isError: true, content: "The result would be nested deeper than 63 levels, the most a memory's data may have" });
    expect(await value('j')).toEqual({ n: 1 });
  });

  it('a JSON memory whose pretty text would exceed maxValueBytes (deep indentation) reads as its compact JSON text', async () => {
    // 600 leaves 30 levels deep: 1.2 KB of JSON, 37 KB pretty-printed (the limit here is 4096).
    let deep: unknown = Array(600).fill(0);
    for (let i = 0; i < 29; i++) deep = [deep];
    await memory.put(owner.accountId, { userId: owner.userId, key: 'deep', data: deep }, Date.now());
    const compact = JSON.stringify(deep);
    expect((await run({ command: 'view', path: '/memories/deep' })).content).toBe(`Here's the content of /memories/deep with line numbers:\n     1\t${compact}`);
    expect((await run({ command: 'str_replace', path: '/memories/deep', old_str: '[0,0,', new_str: '[1,0,' })).isError).toBe(false);
    expect(JSON.stringify(await value('deep'))).toBe(compact.replace('[0,0,', '[1,0,'));
  });

  it('prettyLength is the length of JSON.stringify(value, null, 2), computed from the compact text', () => {
    const samples: unknown[] = [0, 'a"b\\c[{,:', [], {}, [[]], { a: [] }, [1, [2, { b: {}, c: 'x,y' }], []], { 'k:"': { '': [null, true, -1.5e-7] } }, [[[[1]]]]];
    for (const v of samples) expect(prettyLength(JSON.stringify(v)), JSON.stringify(v)).toBe(JSON.stringify(v, null, 2).length);
  });

  it('str_replace replaces exactly one occurrence and shows the snippet; none or several is an error', async () => {
    await run({ command: 'create', path: '/memories/f.md', file_text: 'a\nb\nc\nd\ne\nf\ng\nx y x' });
    expect(await run({ command: 'str_replace', path: '/memories/f.md', old_str: 'd', new_str: 'D1\nD2' })).toEqual({
      isError: false,
      content: 'The memory file has been edited. Here is the snippet showing the change (with line numbers):\n     2\tb\n     3\tc\n     4\tD1\n     5\tD2\n     6\te\n     7\tf',
    });
    expect(await run({ command: 'str_replace', path: '/memories/f.md', old_str: 'zzz', new_str: '' })).toEqual({
      isError: true, content: 'No replacement was performed, old_str `zzz` did not appear verbatim in /memories/f.md.',
    });
    expect(await run({ command: 'str_replace', path: '/memories/f.md', old_str: 'x', new_str: 'z' })).toEqual({
      isError: true, content: 'No replacement was performed. Multiple occurrences of old_str `x` in lines: 9, 9. Please ensure it is unique',
    });
    expect((await run({ command: 'str_replace', path: '/memories/f.md', old_str: 'b\nc', new_str: 'bc' })).isError).toBe(false);
    expect(await value('f.md')).toBe('a\nbc\nD1\nD2\ne\nf\ng\nx y x');
    expect((await run({ command: 'str_replace', path: '/memories/missing', old_str: 'a', new_str: 'b' })).content).toBe('The path /memories/missing does not exist. Please provide a valid path.');
    expect((await run({ command: 'str_replace', path: '/memories', old_str: 'a', new_str: 'b' })).content).toBe('The path /memories is not a file.');
    expect((await run({ command: 'str_replace', path: '/memories/f.md', old_str: '' })).isError).toBe(true);
  });

  it(`str_replace lists the lines of at most ${MAX_LISTED_OCCURRENCES} occurrences (overlapping ones count), then says more exist`, async () => {
    await run({ command: 'create', path: '/memories/g.md', file_text: 'aaa\nb\n\naa b aa\n' + 'q\n'.repeat(70) });
    expect((await run({ command: 'str_replace', path: '/memories/g.md', old_str: 'aa', new_str: '' })).content).toBe(
      'No replacement was performed. Multiple occurrences of old_str `aa` in lines: 1, 1, 4, 4. Please ensure it is unique',
    );
    const listed = Array.from({ length: MAX_LISTED_OCCURRENCES }, (_, i) => i + 5).join(', ');
    expect((await run({ command: 'str_replace', path: '/memories/g.md', old_str: 'q', new_str: '' })).content).toBe(
      `No replacement was performed. Multiple occurrences of old_str \`q\` in lines: ${listed} and more. Please ensure it is unique`,
    );
    expect((await run({ command: 'str_replace', path: '/memories/g.md', old_str: 'b aa\nq', new_str: 'B' })).content).toBe(
      'The memory file has been edited. Here is the snippet showing the change (with line numbers):\n     2\tb\n     3\t\n     4\taa B\n     5\tq\n     6\tq',
    );
  });

  it('insert puts text after the given line (0: at the top) and checks the range', async () => {
    await run({ command: 'create', path: '/memories/f.md', file_text: 'one\ntwo' });
    expect(await run({ command: 'insert', path: '/memories/f.md', insert_line: 0, insert_text: 'zero\n' })).toEqual({ isError: false, content: 'The file /memories/f.md has been edited.' });
    expect(await run({ command: 'insert', path: '/memories/f.md', insert_line: 3, insert_text: 'three' })).toMatchObject({ isError: false });
    expect(await value('f.md')).toBe('zero\none\ntwo\nthree');
    expect(await run({ command: 'insert', path: '/memories/f.md', insert_line: 9, insert_text: 'x' })).toEqual({
      isError: true, content: 'Invalid `insert_line` parameter: 9. It should be within the range of lines of the file: [0, 4]',
    });
    expect((await run({ command: 'insert', path: '/memories/f.md', insert_line: '1', insert_text: 'x' })).isError).toBe(true);
  });

  it('renaming or deleting a directory of many files lets the event loop turn (this store answers in microtasks)', async () => {
    // Enough files (under the tool's 500 per directory) that each command works past two time slices (SLICE_MS each) on a fast run too: with 150,
    // a delete done in under 20 ms turned the loop once (a clean CI run), and the count said nothing about slicing.
    for (let i = 0; i < 450; i++) await memory.put(owner.accountId, { userId: owner.userId, key: `dir/f${i}`, data: 'x' }, Date.now());
    const turnsDuring = async (input: Record<string, unknown>) => {
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      const out = await run(input);
      clearInterval(ticker);
      expect(out.isError).toBe(false);
      return turns;
    };
    expect(await turnsDuring({ command: 'rename', old_path: '/memories/dir', new_path: '/memories/moved' })).toBeGreaterThanOrEqual(3);
    expect(await turnsDuring({ command: 'delete', path: '/memories/moved' })).toBeGreaterThanOrEqual(2);
    expect((await memory.list(owner.accountId, owner.userId, { limit: 10 }, Date.now())).length).toBe(0);
  });

  it('delete removes a file, or a whole directory, never the root', async () => {
    for (const p of ['a/1', 'a/2', 'a/b/3', 'ab']) await run({ command: 'create', path: `/memories/${p}`, file_text: p });
    expect(await run({ command: 'delete', path: '/memories/a/1' })).toEqual({ isError: false, content: 'Successfully deleted /memories/a/1' });
    expect(await value('a/1')).toBeNull();
    expect(await run({ command: 'delete', path: '/memories/a' })).toEqual({ isError: false, content: 'Successfully deleted /memories/a' });
    expect([await value('a/2'), await value('a/b/3'), await value('ab')]).toEqual([null, null, 'ab']);
    expect(await run({ command: 'delete', path: '/memories/a' })).toEqual({ isError: true, content: 'The path /memories/a does not exist' });
    expect(await run({ command: 'delete', path: '/memories' })).toEqual({ isError: true, content: 'Cannot delete the /memories directory itself' });
  });

  it('rename moves a file with its content and TTL, or a directory, and never overwrites', async () => {
    await run({ command: 'create', path: '/memories/draft.md', file_text: 'v1' });
    const before = (await memory.get(owner.accountId, owner.userId, 'draft.md', Date.now(), false))!.meta;
    expect(await run({ command: 'rename', old_path: '/memories/draft.md', new_path: '/memories/done/final.md' })).toEqual({
      isError: false, content: 'Successfully renamed /memories/draft.md to /memories/done/final.md',
    });
    const after = (await memory.get(owner.accountId, owner.userId, 'done/final.md', Date.now(), false))!.meta;
    expect([await value('draft.md'), await value('done/final.md')]).toEqual([null, 'v1']);
    expect([after.etag, after.ttlMs]).toEqual([before.etag, before.ttlMs]);
    await run({ command: 'create', path: '/memories/other.md', file_text: 'v2' });
    expect(await run({ command: 'rename', old_path: '/memories/other.md', new_path: '/memories/done/final.md' })).toEqual({
      isError: true, content: 'The destination /memories/done/final.md already exists',
    });
    expect(await run({ command: 'rename', old_path: '/memories/done', new_path: '/memories/archive/2026' })).toMatchObject({ isError: false });
    expect(await value('archive/2026/final.md')).toBe('v1');
    expect((await run({ command: 'rename', old_path: '/memories/archive', new_path: '/memories/other.md' })).content).toBe('The destination /memories/other.md already exists');
    expect((await run({ command: 'rename', old_path: '/memories/archive', new_path: '/memories/archive/x' })).content).toBe('Cannot move /memories/archive into itself');
    expect((await run({ command: 'rename', old_path: '/memories/nope', new_path: '/memories/x' })).content).toBe('The path /memories/nope does not exist');
    expect((await run({ command: 'rename', old_path: '/memories', new_path: '/memories/x' })).content).toBe('Cannot rename the /memories directory itself');
  });

  it('unknown commands and malformed inputs are errors for the model, never exceptions', async () => {
    expect(await run({ command: 'format', path: '/memories/x' })).toMatchObject({ isError: true, content: expect.stringMatching(/^Unknown command "format"/) });
    expect(await tool.run(owner, 'view /memories', Date.now())).toMatchObject({ isError: true });
    expect(await run({ command: 'view' })).toMatchObject({ isError: true, content: 'The path must be a non-empty string starting with /memories' });
    expect(await run({ command: 'rename', old_path: '/memories/a', new_path: '/etc/passwd' })).toMatchObject({ isError: true, content: expect.stringMatching(/outside \/memories/) });
  });
});

describe('memory tool paths', () => {
  const key = (p: unknown) => {
    const r = parseMemoryPath(p, 32);
    return r.ok ? r.key : `!${r.message}`;
  };

  it('maps /memories/... to keys and the root to the empty key', () => {
    expect([key('/memories/notes/todo.md'), key('/memories'), key('/memories/'), key('/memories/notes/')]).toEqual(['notes/todo.md', '', '', 'notes']);
    expect(parseMemoryPath('/memories/notes/', 32)).toMatchObject({ ok: true, slash: true, dir: 'notes/', path: '/memories/notes/' });
  });

  it('refuses paths outside /memories, traversal, empty segments, control characters and long keys', () => {
    for (const [p, why] of [
      ['/etc/passwd', /outside \/memories/], ['/memoriesX/a', /outside/], ['memories/a', /outside/], ['/memories/../etc', /"\." or "\.\." segments/],
      ['/memories/a/./b', /"\." or "\.\."/], ['/memories/a/..', /"\." or "\.\."/], ['/memories//a', /empty segment/], ['/memories/a//b', /empty segment/],
      ['/memories/a\u0000b', /control characters/], ['/memories/a\nb', /control/], ['/memories/\u0085', /control/], ['/memories/\ud800', /well-formed/],
      ['/memories/' + 'x'.repeat(33), /too long: at most 32 bytes/], ['', /non-empty string/], [42, /non-empty string/],
    ] as Array<[unknown, RegExp]>) {
      expect(key(p), String(p)).toMatch(why);
    }
    expect(key('/memories/' + 'é'.repeat(16))).toBe('é'.repeat(16));
    expect(key('/memories/' + 'é'.repeat(17))).toMatch(/too long/);
  });

  it('normalises to NFC, so composed and decomposed spellings are one file', async () => {
    expect(key('/memories/cafe\u0301.md')).toBe('caf\u00e9.md');
    await run({ command: 'create', path: '/memories/cafe\u0301.md', file_text: 'x' });
    expect(await run({ command: 'create', path: '/memories/caf\u00e9.md', file_text: 'y' })).toMatchObject({ isError: true, content: expect.stringMatching(/already exists/) });
    expect(await value('caf\u00e9.md')).toBe('x');
  });
});
