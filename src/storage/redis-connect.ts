// The first connection of a Redis client: bounded in time, and failing with the reason at the first refusal.
import type { RedisLike } from './redis-base.js';
import { bounded } from './timeout.js';

/**
 * The client retries forever on its own (its reconnect strategy), so the first connection is decided
 * here: ready within `ms`, or the first connection error (ECONNREFUSED, a bad password...) as the
 * reason. A client still connecting (a retry after a failed start) is waited for, not connected twice.
 */
export async function connect(client: RedisLike, ms: number): Promise<void> {
  let onError!: (error: unknown) => void;
  const refused = new Promise<never>((_, reject) => {
    onError = reject;
    client.once('error', onError);
  });
  let onReady: ((...args: unknown[]) => void) | undefined;
  const connecting = client.isOpen ? new Promise<unknown>((resolve) => client.once('ready', (onReady = resolve))) : client.connect();
  connecting.catch(() => {}); // observed through bounded() below
  refused.catch(() => {});
  try {
    await bounded(Promise.race([connecting, refused]), ms);
  } finally {
    client.off('error', onError);
    if (onReady) client.off('ready', onReady);
  }
}
