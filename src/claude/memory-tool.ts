// Claude's memory tool (memory_20250818) run on the server: view, create, str_replace, insert, delete, rename.
// Results read like Anthropic's reference implementation (the model is trained on them); every
// model mistake is an `is_error` result, never an HTTP error. Store faults throw (fail closed).
import type { Refusal } from '../memory/draft.js';
import { TimeSlice } from '../time-slice.js';
import { MemoryFiles, type Owner, type TextEdit } from './memory-files.js';
import { MEMORY_ROOT, parseMemoryPath, pathOfKey, type MemoryPath } from './memory-paths.js';

/** What goes back to the model in a `tool_result` block. */
export interface ToolResult {
  content: string;
  isError: boolean;
}

type ValidPath = Extract<MemoryPath, { ok: true }>;
type Input = Record<string, unknown>;

const LINE_WIDTH = 6;
const numbered = (lines: string[], first: number) => lines.map((l, i) => `${String(first + i).padStart(LINE_WIDTH, ' ')}\t${l}`).join('\n');
const ok = (content: string): ToolResult => ({ content, isError: false });
const fail = (content: string): ToolResult => ({ content, isError: true });
const hidden = (segment: string) => segment.startsWith('.') || segment === 'node_modules';

/** Bytes as the reference implementation shows them: 0B, 512B, 1.5K, 4K, 2.1M. */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0B';
  const i = Math.min(3, Math.floor(Math.log(bytes) / Math.log(1024)));
  const size = bytes / 1024 ** i;
  return (size % 1 === 0 ? String(size) : size.toFixed(1)) + ['B', 'K', 'M', 'G'][i]!;
}

/**
 * Occurrences an ambiguous str_replace lists. The search stops after one more, so a needle found on
 * every line of a large file costs one pass over it, not one pass per occurrence.
 */
export const MAX_LISTED_OCCURRENCES = 50;

/**
 * Where `needle` occurs (overlapping occurrences count): the index of the first (-1: none), the
 * 1-based lines of the first MAX_LISTED_OCCURRENCES, and whether more follow. Linear in the text:
 * lines are counted forward from the previous occurrence, never from the start again.
 */
function occurrences(text: string, needle: string): { first: number; lines: number[]; more: boolean } {
  const lines: number[] = [];
  let line = 1;
  let newline = text.indexOf('\n');
  const first = text.indexOf(needle);
  for (let at = first; at !== -1; at = text.indexOf(needle, at + 1)) {
    if (lines.length === MAX_LISTED_OCCURRENCES) return { first, lines, more: true };
    while (newline !== -1 && newline < at) {
      line++;
      newline = text.indexOf('\n', newline + 1);
    }
    lines.push(line);
  }
  return { first, lines, more: false };
}

function refusalText(r: Refusal, path: string): string {
  if (r.code === 'payload_too_large') return `The file ${path} would be too large: ${r.message}`;
  if (r.code === 'not_found') return `The path ${path} does not exist. Please provide a valid path.`;
  return r.message;
}

export class MemoryTool {
  constructor(
    private readonly files: MemoryFiles,
    private readonly maxKeyBytes: number,
    private readonly maxListedFiles: number,
  ) {}

  /** Runs one tool call of the model for `owner`. */
  async run(owner: Owner, input: unknown, now: number): Promise<ToolResult> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return fail('The tool input must be an object with a "command"');
    const i = input as Input;
    const path = (name: string) => parseMemoryPath(i[name], this.maxKeyBytes);
    const p = path(i.command === 'rename' ? 'old_path' : 'path');
    if (!p.ok) return fail(p.message);
    switch (i.command) {
      case 'view':
        return this.view(owner, p, i.view_range, now);
      case 'create':
        return this.create(owner, p, i.file_text, now);
      case 'str_replace':
        return this.strReplace(owner, p, i.old_str, i.new_str, now);
      case 'insert':
        return this.insert(owner, p, i.insert_line, i.insert_text, now);
      case 'delete':
        return this.delete(owner, p, now);
      case 'rename': {
        const to = path('new_path');
        return to.ok ? this.rename(owner, p, to, now) : fail(to.message);
      }
      default:
        return fail(`Unknown command ${JSON.stringify(i.command)}: use view, create, str_replace, insert, delete or rename`);
    }
  }

  private async view(o: Owner, p: ValidPath, range: unknown, now: number): Promise<ToolResult> {
    const file = p.key && !p.slash ? await this.files.read(o, p.key, now) : null;
    if (file) {
      const lines = file.text.split('\n');
      if (range === undefined || range === null) return ok(`Here's the content of ${p.path} with line numbers:\n${numbered(lines, 1)}`);
      const [start, end] = Array.isArray(range) ? (range as unknown[]) : [];
      const valid = Array.isArray(range) && range.length === 2 && Number.isSafeInteger(start) && Number.isSafeInteger(end) &&
        (start as number) >= 1 && (start as number) <= lines.length && (end === -1 || ((end as number) >= (start as number)));
      if (!valid) return fail(`Invalid view_range ${JSON.stringify(range)}: give [start, end] with 1 <= start <= ${lines.length} and end >= start or -1`);
      const last = end === -1 ? lines.length : Math.min(lines.length, end as number);
      return ok(`Here's the content of ${p.path} with line numbers:\n${numbered(lines.slice((start as number) - 1, last), start as number)}`);
    }
    const { entries, more } = await this.files.list(o, p.dir, this.maxListedFiles, now);
    if (entries.length === 0 && p.key !== '') return fail(`The path ${p.path} does not exist. Please provide a valid path.`);
    // Keys are flat: directories are the key prefixes up to "/", two levels below the one viewed.
    const sizes = new Map<string, number>();
    let total = 0;
    for (const e of entries) {
      const segments = e.key.slice(p.dir.length).split('/');
      if (segments.some(hidden)) continue;
      total += e.size;
      // A directory's size is the sum of the files below it.
      if (segments.length > 1) sizes.set(`${segments[0]}/`, (sizes.get(`${segments[0]}/`) ?? 0) + e.size);
      const shown = segments.length <= 2 ? segments.join('/') : `${segments[0]}/${segments[1]}/`;
      sizes.set(shown, (segments.length > 2 ? (sizes.get(shown) ?? 0) : 0) + e.size);
    }
    const base = p.key === '' ? MEMORY_ROOT : pathOfKey(p.key);
    const rows = [...sizes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([rel, size]) => `${formatSize(size)}\t${base}/${rel}`);
    const note = more ? `\n(Only the first ${this.maxListedFiles} files were listed: view a subdirectory to see the others.)` : '';
    return ok(`Here're the files and directories up to 2 levels deep in ${base}, excluding hidden items and node_modules:\n` +
      [`${formatSize(total)}\t${base}`, ...rows].join('\n') + note);
  }

  private async create(o: Owner, p: ValidPath, text: unknown, now: number): Promise<ToolResult> {
    if (typeof text !== 'string') return fail('create needs "file_text", a string');
    if (p.key === '' || p.slash) return fail(`Cannot create a file at ${p.path}: that is a directory path`);
    if (await this.files.hasPrefix(o, p.dir, now)) return fail(`Cannot create ${p.path}: it is a directory`);
    const out = await this.files.create(o, p.key, text, now);
    if (out.ok) return ok(`File created successfully at: ${p.path}`);
    return fail(out.refusal.code === 'precondition_failed' ? `File ${p.path} already exists` : refusalText(out.refusal, p.path));
  }

  private strReplace(o: Owner, p: ValidPath, oldStr: unknown, newStr: unknown, now: number): Promise<ToolResult> {
    if (typeof oldStr !== 'string' || oldStr === '') return Promise.resolve(fail('str_replace needs "old_str", a non-empty string'));
    if (newStr !== undefined && typeof newStr !== 'string') return Promise.resolve(fail('str_replace: "new_str" must be a string'));
    const replacement = (newStr as string | undefined) ?? '';
    return this.editFile(o, p, now, (text) => {
      const found = occurrences(text, oldStr);
      if (found.first === -1) return { ok: false, message: `No replacement was performed, old_str \`${oldStr}\` did not appear verbatim in ${p.path}.` };
      if (found.lines.length > 1) {
        const listed = found.lines.join(', ') + (found.more ? ' and more' : '');
        return { ok: false, message: `No replacement was performed. Multiple occurrences of old_str \`${oldStr}\` in lines: ${listed}. Please ensure it is unique` };
      }
      const index = found.first;
      const line = found.lines[0]!;
      const next = text.slice(0, index) + replacement + text.slice(index + oldStr.length);
      const lines = next.split('\n');
      const from = Math.max(0, line - 3);
      const to = Math.min(lines.length, line + 2 + replacement.split('\n').length - 1);
      return { ok: true, text: next, note: `The memory file has been edited. Here is the snippet showing the change (with line numbers):\n${numbered(lines.slice(from, to), from + 1)}` };
    });
  }

  private insert(o: Owner, p: ValidPath, line: unknown, text: unknown, now: number): Promise<ToolResult> {
    if (!Number.isSafeInteger(line)) return Promise.resolve(fail('insert needs "insert_line", an integer'));
    if (typeof text !== 'string') return Promise.resolve(fail('insert needs "insert_text", a string'));
    return this.editFile(o, p, now, (current) => {
      const lines = current.split('\n');
      const n = line as number;
      if (n < 0 || n > lines.length) return { ok: false, message: `Invalid \`insert_line\` parameter: ${n}. It should be within the range of lines of the file: [0, ${lines.length}]` };
      lines.splice(n, 0, text.replace(/\n$/, ''));
      return { ok: true, text: lines.join('\n'), note: `The file ${p.path} has been edited.` };
    });
  }

  private async editFile(o: Owner, p: ValidPath, now: number, edit: (text: string) => TextEdit): Promise<ToolResult> {
    if (p.key === '' || p.slash) return fail(`The path ${p.path} is not a file.`);
    const out = await this.files.edit(o, p.key, edit);
    if (out.ok) return ok(out.note);
    if (out.refusal.code === 'not_found' && (await this.files.hasPrefix(o, p.dir, now))) return fail(`The path ${p.path} is not a file.`);
    return fail(refusalText(out.refusal, p.path));
  }

  private async delete(o: Owner, p: ValidPath, now: number): Promise<ToolResult> {
    if (p.key === '') return fail(`Cannot delete the ${MEMORY_ROOT} directory itself`);
    if (!p.slash && (await this.files.delete(o, p.key, now))) return ok(`Successfully deleted ${p.path}`);
    const { entries, more } = await this.files.list(o, p.dir, this.maxListedFiles, now);
    if (entries.length === 0) return fail(`The path ${p.path} does not exist`);
    const slice = new TimeSlice();
    for (const e of entries) {
      await this.files.delete(o, e.key, now);
      await slice.pass();
    }
    return ok(more ? `Deleted the first ${entries.length} files of ${p.path}; more remain: delete it again` : `Successfully deleted ${p.path}`);
  }

  private async rename(o: Owner, from: ValidPath, to: ValidPath, now: number): Promise<ToolResult> {
    if (from.key === '') return fail(`Cannot rename the ${MEMORY_ROOT} directory itself`);
    if (to.key === '') return fail(`Cannot rename onto the ${MEMORY_ROOT} directory itself`);
    if (from.key === to.key) return fail('old_path and new_path are the same');
    const exists = async () => (await this.files.read(o, to.key, now)) !== null || (await this.files.hasPrefix(o, to.dir, now));
    if (await exists()) return fail(`The destination ${to.path} already exists`);
    if (!from.slash && !to.slash) {
      const moved = await this.files.move(o, from.key, to.key, now);
      if (moved !== 'missing') return this.moved(moved, from, to);
    }
    if (to.dir.startsWith(from.dir)) return fail(`Cannot move ${from.path} into itself`);
    const { entries, more } = await this.files.list(o, from.dir, this.maxListedFiles, now);
    if (entries.length === 0) return fail(`The path ${from.path} does not exist`);
    const problems: string[] = [];
    const slice = new TimeSlice();
    for (const e of entries) {
      const r = await this.files.move(o, e.key, to.dir + e.key.slice(from.dir.length), now);
      if (r !== 'moved') problems.push(`${pathOfKey(e.key)}: ${this.moved(r, from, to).content}`);
      await slice.pass();
    }
    if (problems.length) return fail(`Renamed ${from.path} to ${to.path} except:\n${problems.join('\n')}`);
    return ok(more ? `Moved the first ${entries.length} files of ${from.path} to ${to.path}; more remain: rename it again` : `Successfully renamed ${from.path} to ${to.path}`);
  }

  private moved(r: Awaited<ReturnType<MemoryFiles['move']>>, from: ValidPath, to: ValidPath): ToolResult {
    if (r === 'moved') return ok(`Successfully renamed ${from.path} to ${to.path}`);
    if (r === 'missing') return fail(`The path ${from.path} does not exist`);
    if (r === 'exists') return fail(`The destination ${to.path} already exists`);
    if (r === 'kept_both') return fail(`${from.path} changed while it was being renamed: the copy at ${to.path} has the earlier content and ${from.path} was kept`);
    return fail(refusalText(r, from.path));
  }
}
