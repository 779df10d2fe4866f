// A TCP proxy a test puts between the service and a real store server, then breaks on demand: reset every connection, or black-hole them.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** 'pass': bytes flow. 'refuse': new connections are reset at once. 'blackhole': bytes are dropped (see `blackhole`). */
type Mode = 'pass' | 'refuse' | 'blackhole';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes were dropped on this connection: its stream is corrupt, so it is reset when the fault ends. */
  tainted: boolean;
}

export interface TcpProxy {
  /** The port the service connects to instead of the server's. */
  port: number;
  /** How many connections were opened through the proxy so far. */
  readonly opened: number;
  /** Resets (RST) every open connection; with `refuse`, new ones are reset too until `heal()`. */
  reset(options?: { refuse?: boolean }): void;
  /**
   * Stops delivering bytes, like a network path that drops packets: 'replies' drops only what the server
   * sends (requests still arrive and run, their answers never come back), 'both' drops both ways. New
   * connections are black-holed as well.
   */
  blackhole(direction: 'replies' | 'both'): void;
  /** Ends the fault: connections that lost bytes are reset (as a partition healing ends them), new ones pass. */
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = 'pass';
  let direction: 'replies' | 'both' = 'both';
  let opened = 0;
  const pairs = new Set<Pair>();
  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    opened++;
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => {});
    const pair: Pair = { client, upstream, tainted: mode === 'blackhole' };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole' && direction === 'both') pair.tainted = true;
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole' || pair.tainted) pair.tainted = true;
      else client.write(chunk);
    });
    client.on('close', () => drop(pair));
    upstream.on('close', () => drop(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reset = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.upstream.resetAndDestroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    get opened() {
      return opened;
    },
    reset(options = {}) {
      if (options.refuse) mode = 'refuse';
      for (const pair of [...pairs]) reset(pair);
    },
    blackhole(d) {
      mode = 'blackhole';
      direction = d;
      for (const pair of pairs) pair.tainted = true;
    },
    heal() {
      for (const pair of [...pairs]) if (pair.tainted) reset(pair);
      mode = 'pass';
    },
    async close() {
      for (const pair of [...pairs]) reset(pair);
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
