// Usage counters of the generic Keyv store: one document per account and UTC day (hour -> counters), written under the account's lock.
import type { Keyv } from 'keyv';
import type { Millis } from './contract.js';
import { ttlUntil } from './keyv-store.js';
import { addTo, bucketDays, fromDays, newTally, type Tally, type UsageBucket, type UsageInput } from './usage.js';

/** A day of an account's usage: counters by hour ("13"), kept until the latest expiry of its buckets. */
interface Day {
  exp: Millis;
  h: Record<string, Tally>;
}

const k = (...parts: string[]): string => JSON.stringify(parts);

export class KeyvUsage {
  constructor(private readonly keyv: Keyv) {}

  /** Adds `counts` and the caller's `add` to the bucket of `u`. Runs inside the account's lock (KeyvMoney). */
  async count(account: string, u: UsageInput, now: Millis, counts: Array<[string, number]> = []): Promise<void> {
    const key = k('u', account, u.bucket.slice(0, 10));
    const stored = (await this.keyv.get(key)) as Day | undefined;
    // Copies: without a serializer the Keyv hands back the stored objects themselves, never to be mutated.
    const day: Day = stored && stored.exp > now ? { exp: Math.max(stored.exp, u.expiresAt), h: { ...stored.h } } : { exp: u.expiresAt, h: {} };
    const hour = u.bucket.slice(11, 13);
    const t = Object.assign(newTally(), day.h[hour]);
    for (const [field, n] of counts) addTo(t, field, n);
    if (u.add) for (const [field, n] of Object.entries(u.add)) addTo(t, field, n);
    day.h[hour] = t;
    await this.keyv.set(key, day, ttlUntil(day.exp, now));
  }

  /** Keeps `now` as the last use of API key `keyId`. Runs inside the account's lock. */
  async keyUsed(account: string, keyId: string, now: Millis): Promise<void> {
    const key = k('ku', account);
    const uses = { ...((await this.keyv.get(key)) as Record<string, Millis> | undefined) };
    uses[keyId] = now;
    await this.keyv.set(key, uses);
  }

  async usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    const days = bucketDays(from, to);
    const docs = (await Promise.all(days.map((d) => this.keyv.get(k('u', account, d))))) as Array<Day | undefined>;
    return fromDays(days.map((d, i) => [d, docs[i] && docs[i].exp > now ? docs[i].h : null]), from, to);
  }

  async lastUsed(account: string): Promise<Record<string, Millis>> {
    return { ...((await this.keyv.get(k('ku', account))) as Record<string, Millis> | undefined) };
  }
}
