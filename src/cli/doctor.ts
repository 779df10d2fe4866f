// `aipaygent doctor`: checks the configuration, the packages of the features it turns on, the store, the Claude upstream and the chain RPC.
import { createRequire } from 'node:module';
import { parseOptions, type Config } from '../config.js';
import { optionsFromEnv } from '../env.js';
import { reasonOf } from '../errors.js';
import { featureLines } from '../features.js';
import { loadFeature, OPTIONAL_PACKAGES, type OptionalFeature } from '../optional.js';
import type { StoreInfo } from '../storage/contract.js';
import { describeStore, openStore } from '../storage/open.js';
import { bounded } from '../storage/timeout.js';
import { parse, UsageError, type CommandSpec } from './args.js';
import type { Io } from './io.js';

export const DOCTOR: CommandSpec = {
  usage: 'aipaygent doctor',
  summary: 'Checks what `aipaygent serve` would run with (the same AIPAYGENT_* variables) and prints what is on and off.',
  help: [
    'Checks: the configuration; the package of each feature that is on; the store (reachable, migrated, latency);',
    'the Claude upstream (GET /v1/models with the key) and the chain RPC (chain id, USDC contract) when configured.',
    'Exit code 0 when every check passed, 1 otherwise.',
  ],
};

type Check = { ok: boolean; line: string };
const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;
function versionOf(pkg: string): string {
  try {
    return ` ${(createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version}`;
  } catch {
    return ''; // a package that does not export its package.json: found, version unknown
  }
}

/** The optional packages the configuration needs. */
function neededFeatures(config: Config): OptionalFeature[] {
  const store = typeof config.store === 'string' ? config.store : '';
  const needed: OptionalFeature[] = [];
  if (/^rediss?:\/\//.test(store)) needed.push('redis');
  if (/^postgres(ql)?:\/\//.test(store)) needed.push('postgres');
  if (store.startsWith('sqlite://')) needed.push('sqlite');
  if (config.claude) needed.push('claude');
  if (config.payments) needed.push('payments');
  if (config.openTelemetry) needed.push('openTelemetry');
  return needed;
}

async function checkPackage(feature: OptionalFeature): Promise<Check> {
  const { pkg, feature: what } = OPTIONAL_PACKAGES[feature];
  try {
    await loadFeature(feature, () => import(pkg));
    return { ok: true, line: `package ${pkg}${versionOf(pkg)} (for ${what})` };
  } catch (error) {
    return { ok: false, line: reasonOf(error) };
  }
}

async function checkStore(config: Config): Promise<Check & { info?: StoreInfo }> {
  const what = describeStore(config.store);
  try {
    const store = await openStore(config.store, { timeoutMs: config.storeTimeoutMs, prefix: config.storePrefix });
    try {
      if (config.multiProcess && !store.info.multiProcess) {
        return { ok: false, line: `store ${what} (${store.info.backend}): AIPAYGENT_MULTI_PROCESS is on but this store is exact only inside one process` };
      }
      const t0 = performance.now();
      await bounded(store.init(), Math.max(10_000, 5 * config.storeTimeoutMs));
      const opened = ms(t0);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await bounded(store.counter('_health', 'doctor', Date.now()), config.storeTimeoutMs);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { ok: true, info: store.info, line: `store ${what} (${store.info.backend}): connected and migrated in ${opened}; a read takes ${times[2]!.toFixed(2)} ms (median of 5)` };
    } finally {
      await store.close().catch(() => {});
    }
  } catch (error) {
    return { ok: false, line: `store ${what}: ${reasonOf(error)}` };
  }
}

async function checkClaude(c: NonNullable<Config['claude']>): Promise<Check> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${c.baseURL.replace(/\/+$/, '')}/v1/models?limit=1`, {
      headers: { 'x-api-key': c.apiKey, 'anthropic-version': '2023-06-01' }, signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (res.status === 401 || res.status === 403) return { ok: false, line: `claude upstream ${c.baseURL}: the API key is refused (HTTP ${res.status})` };
    return { ok: res.ok, line: `claude upstream ${c.baseURL}: HTTP ${res.status} in ${ms(t0)}` };
  } catch (error) {
    return { ok: false, line: `claude upstream ${c.baseURL}: unreachable (${reasonOf(error)})` };
  }
}

async function checkChain(p: NonNullable<Config['payments']>): Promise<Check> {
  const host = new URL(p.rpcUrl).host;
  const rpc = async (method: string, params: unknown[]) => {
    const res = await fetch(p.rpcUrl, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(p.rpcTimeoutMs),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
    if (body.error || typeof body.result !== 'string') throw new Error(body.error?.message ?? `HTTP ${res.status}, no result`);
    return body.result;
  };
  const t0 = performance.now();
  try {
    const chainId = Number(BigInt(await rpc('eth_chainId', [])));
    const took = ms(t0);
    if (chainId !== p.chainId) return { ok: false, line: `chain RPC ${host}: it serves chain ${chainId}, the configuration says ${p.chainId}` };
    const code = await rpc('eth_getCode', [p.usdc, 'latest']);
    if (code === '0x') return { ok: false, line: `chain RPC ${host}: no contract at the USDC address ${p.usdc} on chain ${chainId}` };
    return { ok: true, line: `chain RPC ${host}: chain ${chainId} in ${took}; USDC contract found at ${p.usdc}` };
  } catch (error) {
    return { ok: false, line: `chain RPC ${host}: ${reasonOf(error)}` };
  }
}

export async function doctorCommand(argv: string[], io: Io): Promise<number> {
  const p = parse(DOCTOR, argv);
  if (p.help) return io.help(DOCTOR);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`, DOCTOR.usage);
  let config: Config;
  try {
    config = parseOptions(optionsFromEnv(io.env));
  } catch (error) {
    io.out(`✗ configuration: ${reasonOf(error)}${(error as Error).message.includes('\n') ? `\n${(error as Error).message.split('\n').slice(1).join('\n')}` : ''}`);
    return 1;
  }
  const checks: Check[] = [{ ok: true, line: 'configuration: valid' }];
  const packages = await Promise.all(neededFeatures(config).map(checkPackage));
  checks.push(...packages);
  const missing = new Set(neededFeatures(config).filter((_, i) => !packages[i]!.ok));
  const storeNeedsPackage = ['redis', 'postgres', 'sqlite'].some((f) => missing.has(f as OptionalFeature));
  const store = storeNeedsPackage ? undefined : await checkStore(config);
  if (store) checks.push(store);
  if (config.claude) checks.push(await checkClaude(config.claude));
  if (config.payments) checks.push(await checkChain(config.payments));
  for (const c of checks) io.out(`${c.ok ? '✓' : '✗'} ${c.line}`);
  io.out('features:');
  // As `serve` would print them: it makes up an admin token when none is set, so admin and metrics are on there.
  for (const line of featureLines({ ...config, adminToken: config.adminToken ?? 'generated by serve' }, store?.info)) io.out(`  ${line}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}
