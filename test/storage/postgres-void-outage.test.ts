// Postgres hung (SIGSTOP) or cut (connections reset, replies black-holed) under 20 clients: no call answered 503 stays charged.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canStartPostgres, startOwnPostgres, type OwnServer } from '../support/own-servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { expectNoUnservedCharge, meteredLoad } from '../support/void-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAULT_MS = 5000;

describe.skipIf(!canStartPostgres())('postgres faults under load: an unserved call is never charged', () => {
  let server: OwnServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    server = await startOwnPostgres();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  }, 60_000);

  const run = async (name: string, fault: () => Promise<void>) => {
    const prefix = `apgvoid_${randomUUID().slice(0, 8)}`;
    const load = await meteredLoad(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`, prefix, fault);
    const summary = await expectNoUnservedCharge(server.url, prefix, load);
    console.log(`postgres ${name}: ${JSON.stringify(summary)}`);
  };

  it('hung: the server frozen (SIGSTOP) for 5 s; statements sent meanwhile run when it resumes', { timeout: 90_000 }, async () => {
    await run('SIGSTOP', async () => {
      await server.freeze();
      await sleep(FAULT_MS);
      await server.thaw();
    });
  });

  it('cut: every connection reset every 250 ms for 5 s', { timeout: 90_000 }, async () => {
    await run('reset', async () => {
      for (const end = Date.now() + FAULT_MS; Date.now() < end; await sleep(250)) proxy.reset();
    });
    expect(proxy.opened).toBeGreaterThan(10);
  });

  it('cut: replies black-holed for 5 s (statements still run, answers never come back), then the connections reset', { timeout: 90_000 }, async () => {
    await run('black hole', async () => {
      proxy.blackhole('replies');
      await sleep(FAULT_MS);
      proxy.heal();
    });
  });
});
