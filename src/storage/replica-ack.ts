// When a write to a replicated Redis (a Cluster) is acknowledged: after the master has it, or after a replica has it too.

/**
 * Redis replication is asynchronous: a master that dies right after answering can take the write with it.
 * With `replicas: n`, a write is answered only once `n` replicas have it (Redis `WAIT`); if they do not
 * within `timeoutMs`, the call is a 503 (the write may or may not survive a failover: retry it with the
 * same reference or idempotency key). `writes: 'credits'` waits for money given (grants, purchases,
 * refunds); `'all'` for every write (debits, holds, memories), at the cost of a replica round trip each.
 */
export interface ReplicaAckOptions {
  /** @default 1 on a Redis Cluster, 0 (no wait) on a single Redis */
  replicas?: number;
  /** @default 1000 */
  timeoutMs?: number;
  /** @default 'credits' */
  writes?: 'credits' | 'all';
}

export interface ReplicaAck {
  /** undefined: 1 on a Cluster, 0 elsewhere (decided when the store opens). */
  replicas: number | undefined;
  timeoutMs: number;
  writes: 'credits' | 'all';
}

/** Validates `replicaAck`, pushing every problem found into `problems`. */
export function parseReplicaAck(o: ReplicaAckOptions | undefined, problems: string[]): ReplicaAck {
  const out: ReplicaAck = { replicas: o?.replicas, timeoutMs: o?.timeoutMs ?? 1000, writes: o?.writes ?? 'credits' };
  if (out.replicas !== undefined && !(Number.isSafeInteger(out.replicas) && out.replicas >= 0 && out.replicas <= 16)) problems.push('replicaAck.replicas must be an integer between 0 and 16');
  if (!(Number.isSafeInteger(out.timeoutMs) && out.timeoutMs >= 1 && out.timeoutMs <= 60_000)) problems.push('replicaAck.timeoutMs must be an integer between 1 and 60000');
  if (out.writes !== 'credits' && out.writes !== 'all') problems.push("replicaAck.writes must be 'credits' or 'all'");
  return out;
}
