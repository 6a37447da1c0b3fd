// A counting semaphore with a FIFO wait queue, O(1) per operation at any
// queue length. The upstream client takes a slot per request, as many as the
// connection pool holds, so requests beyond the pool wait here as a small
// closure instead of as a full HTTP request object (an SDK request queued in
// the HTTP pool costs tens of KB; tens of thousands can be waiting).

interface Waiter {
  grant: () => void;
  cancelled: boolean;
}

export class Slots {
  private free: number;
  private queue: (Waiter | undefined)[] = [];
  private head = 0;

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i] && !this.queue[i]!.cancelled) n++;
    return n;
  }

  get inUse(): number {
    return this.size - this.free;
  }

  /** Resolves with a release function once a slot is free; rejects with `signal`'s reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.free > 0 && this.head === this.queue.length) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        cancelled: false,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        waiter.cancelled = true;
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free++;
      this.grantNext();
    };
  }

  private grantNext(): void {
    while (this.free > 0 && this.head < this.queue.length) {
      const waiter = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (!waiter || waiter.cancelled) continue;
      this.free--;
      waiter.grant();
    }
    // Drop the consumed front now and then, so the array does not grow without end.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
