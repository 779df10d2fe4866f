// The calls a handler is serving, counted so that a graceful shutdown can wait for them (Handler.drain).
import type { CoreBody } from './types.js';

/** Whether a body is streamed (its work goes on while it is read) rather than whole. */
export const isStreamBody = (body: CoreBody): body is AsyncIterable<string | Uint8Array> =>
  body !== null && typeof body !== 'string' && !(body instanceof Uint8Array);

export class InFlight {
  private count = 0;
  /** True once `drain` began. */
  draining = false;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Counts a call unless draining began; false: refuse it. */
  begin(): boolean {
    if (this.draining) return false;
    this.count++;
    return true;
  }

  /** A call has its whole answer out. */
  end(): void {
    if (--this.count === 0) this.idle?.resolve();
  }

  /** `onStream`: told +1 when a streamed answer begins and -1 when it ends (the open-streams gauge). */
  constructor(private readonly onStream?: (delta: 1 | -1) => void) {}

  /** `body`, ending its call once it has been read to the end, fails, or its reader stops early (return/throw). */
  untilEnd<T>(body: AsyncIterable<T>): AsyncIterable<T> {
    let open = true;
    this.onStream?.(1);
    const end = () => {
      if (open) {
        open = false;
        this.end();
        this.onStream?.(-1);
      }
    };
    return {
      [Symbol.asyncIterator](): AsyncIterator<T> {
        const inner = body[Symbol.asyncIterator]();
        return {
          async next() {
            try {
              const r = await inner.next();
              if (r.done) end();
              return r;
            } catch (error) {
              end();
              throw error;
            }
          },
          // The inner iterator's own cleanup (a stream's billing) runs first; then the call counts as ended.
          async return(value?: unknown) {
            try {
              return inner.return ? await inner.return(value) : { done: true, value: value as T };
            } finally {
              end();
            }
          },
          async throw(error?: unknown) {
            try {
              if (inner.throw) return await inner.throw(error);
              throw error;
            } finally {
              end();
            }
          },
        };
      },
    };
  }

  /** Refuses new calls from now on; resolves true once none is left, false after `timeoutMs` (Infinity: no limit). */
  drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    if (this.count === 0) return Promise.resolve(true);
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    const idle = this.idle.promise;
    return new Promise<boolean>((resolve) => {
      // setTimeout would turn a delay beyond 2^31 - 1 ms (or Infinity) into 1 ms.
      const timer = timeoutMs === Infinity ? undefined : setTimeout(() => resolve(false), Math.min(timeoutMs, 2 ** 31 - 1));
      void idle.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
