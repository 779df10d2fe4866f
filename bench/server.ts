// Child process of the benchmark: starts one scenario and reports its port and headers on stdout.
import type { AddressInfo } from 'node:net';
import { scenarios } from './scenarios.js';
import { profileOnSignal } from './cpu-profile.js';

const name = process.argv[2]!;
const make = scenarios[name];
if (!make) throw new Error(`unknown scenario ${name}`);
const scenario = await make();
if (process.env.BENCH_PROFILE_FILE) profileOnSignal(process.env.BENCH_PROFILE_FILE);
scenario.server.listen(0, '127.0.0.1', () => {
  const { port } = scenario.server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ port, headers: scenario.headers, request: scenario.request }) + '\n');
});
process.on('SIGTERM', () => {
  // Requests still in flight finish before the store closes (else they would fail with 503 at shutdown).
  scenario.server.close(() => void scenario.close().then(() => process.exit(0)));
  scenario.server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
