// A real Redis Cluster a test starts for itself: 6 redis-server processes (3 masters, 3 replicas) on free ports, in a temp dir.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canStartRedis, freePort } from './own-servers.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One node of the cluster. */
export interface ClusterNode {
  port: number;
  child: ChildProcess;
}

export interface OwnCluster {
  nodes: ClusterNode[];
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…` (every node: any of them is enough to start). */
  url: string;
  /** The cluster's node timeout: how long a master may be silent before its replica takes over. */
  nodeTimeoutMs: number;
  /** Runs redis-cli against one node (e.g. `CLUSTER NODES`), returning its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** Current masters, by port, with their slot ranges as CLUSTER NODES reports them. */
  masters(): Promise<Array<{ port: number; id: string; slots: string[] }>>;
  /** Port of the master serving `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILL of one node (its replica is promoted after nodeTimeoutMs). */
  kill(port: number): void;
  /** Starts a killed node again (it comes back as a replica). */
  restart(port: number): void;
  stop(): Promise<void>;
}

/** Whether the cluster tests may run: skipped with a notice without redis-server, failing under REQUIRE_BACKENDS=1. */
export const canStartCluster = canStartRedis;

/**
 * Starts 3 masters and 3 replicas (`redis-cli --cluster create --cluster-replicas 1`), waits until
 * every node reports `cluster_state:ok`. No persistence; everything lives in a temp dir removed by `stop`.
 */
export async function startCluster(nodeTimeoutMs = 1000): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'apg-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await freePort();
    // The cluster bus listens on port + 10000: both must be free.
    if (p < 55_000 && !ports.includes(p)) ports.push(p);
  }
  const launch = (port: number): ChildProcess => {
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(nodeTimeoutMs), '--dir', dir, '--save', '', '--appendonly', 'no',
    ], { stdio: 'ignore' });
    child.on('error', () => {});
    return child;
  };
  const nodes: ClusterNode[] = ports.map((port) => ({ port, child: launch(port) }));
  const cli = async (port: number, ...args: string[]) => (await exec('redis-cli', ['-p', String(port), ...args])).stdout;
  for (const n of nodes) for (let i = 0; i < 100 && !(await cli(n.port, 'PING').catch(() => '')).startsWith('PONG'); i++) await sleep(50);
  await exec('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
  const ok = async () => (await Promise.all(ports.map((p) => cli(p, 'CLUSTER', 'INFO').catch(() => '')))).every((s) => s.includes('cluster_state:ok'));
  // Serving, and every replica in sync with its master (a write waiting for a replica would time out before).
  const synced = async () => (await Promise.all(ports.map((p) => cli(p, 'INFO', 'replication').catch(() => '')))).filter((s) => s.includes('master_link_status:up')).length === 3;
  for (let i = 0; i < 400 && !((await ok()) && (await synced())); i++) await sleep(50);
  if (!(await ok()) || !(await synced())) throw new Error('the test Redis Cluster did not reach cluster_state:ok with its replicas in sync');
  const live = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  const cluster: OwnCluster = {
    nodes, nodeTimeoutMs, cli,
    url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    async masters() {
      const text = await cli(live()[0]!.port, 'CLUSTER', 'NODES');
      return text.trim().split('\n').map((l) => l.split(' ')).filter((f) => f[2]!.includes('master') && !f[2]!.includes('fail'))
        .map((f) => ({ port: Number(f[1]!.split(':')[1]!.split('@')[0]), id: f[0]!, slots: f.slice(8) }));
    },
    async masterOf(slot: number) {
      for (const m of await cluster.masters()) {
        for (const range of m.slots) {
          const [a, b] = range.split('-').map(Number);
          if (slot >= a! && slot <= (b ?? a)!) return m.port;
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    kill(port: number) {
      nodes.find((n) => n.port === port)?.child.kill('SIGKILL');
    },
    restart(port: number) {
      // Same port and nodes.conf: the node rejoins with its identity, as a replica of whoever took its slots.
      const node = nodes.find((n) => n.port === port);
      if (node) node.child = launch(port);
    },
    async stop() {
      await Promise.all(nodes.map((n) => {
        if (n.child.exitCode !== null || n.child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((r) => n.child.once('exit', r));
        n.child.kill('SIGKILL');
        return exited;
      }));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
