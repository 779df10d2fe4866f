// The MCP Inspector's CLI mode (`--cli` of the inspector-cli 1.0.3 launcher; the 2.x inspector needs Node 22) against an Express mount: tools/list and a tools/call.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMount, type Mounted } from '../support/mounts.js';

const exec = promisify(execFile);
const cli = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector-cli/package.json')), 'build', 'cli.js');
/**
 * inspector-cli 1.0.3 picks its package.json by `fs.existsSync('../package.json')`, relative to the working
 * directory, then imports it relative to its own file: run from its build directory, both name its own.
 */
const cwd = dirname(cli);

let m: Mounted;
let key: string;
beforeAll(async () => {
  m = await startMount('express5', { parsed: true, prefix: '/ai' });
  key = (await m.ai.api.keys.create()).api_key;
});
afterAll(async () => {
  await m?.close();
});

const inspect = async (...args: string[]) => {
  const { stdout } = await exec(process.execPath, [cli, '--cli', `${m.url}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${key}`, '--header', 'X-Aipaygent-User: inspector', ...args], { timeout: 30_000, cwd });
  return JSON.parse(stdout);
};

it('inspector --cli: tools/list names the tools; tools/call stores and retrieves through them', async () => {
  const listed = await inspect('--method', 'tools/list');
  expect(listed.tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['memory_store', 'memory_retrieve', 'credits_balance']));
  const stored = await inspect('--method', 'tools/call', '--tool-name', 'memory_store', '--tool-arg', 'key=greeting', '--tool-arg', 'data={"hello":"world"}');
  expect(stored.structuredContent).toMatchObject({ status: 'success', user_id: 'inspector', key: 'greeting' });
  const got = await inspect('--method', 'tools/call', '--tool-name', 'memory_retrieve', '--tool-arg', 'key=greeting');
  expect(got.structuredContent).toMatchObject({ status: 'success', data: { hello: 'world' } });
}, 60_000);

it('inspector --cli with a bad key fails to connect (401)', async () => {
  const run = exec(process.execPath, [cli, '--cli', `${m.url}/mcp`, '--transport', 'http', '--header', 'Authorization: Bearer apg_nope', '--method', 'tools/list'], { timeout: 30_000, cwd });
  await expect(run).rejects.toMatchObject({ stderr: expect.stringMatching(/401|nauthorized/) });
}, 60_000);
