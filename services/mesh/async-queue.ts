// A queue that one side pushes into and the other drains with `for await`;
// used to turn callbacks and concurrent tasks into a server stream.
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  /** No more items: iteration ends after the queued ones. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Iteration throws this after the queued items. */
  fail(error: unknown): void {
    this.failure = { error };
    this.wake();
  }

  get size(): number {
    return this.items.length;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}
