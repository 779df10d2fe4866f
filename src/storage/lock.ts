// A keyed in-process mutex: serialises critical sections per key inside one Node process only.

/** Runs critical sections one at a time per key; different keys run concurrently. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, mine);
    try {
      if (previous) await previous;
      return await fn();
    } finally {
      release();
      // Only the last waiter removes the entry, so the map never grows with idle keys.
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }
}
