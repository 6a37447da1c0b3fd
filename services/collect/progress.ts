// Collection progress on stderr: a redrawn bar on a terminal, plain lines
// (every few seconds) when output goes to a file or a CI log. Once started,
// a ticker draws even when nothing finishes (a hung upstream shows as
// rollouts in flight and nothing done).
export interface ProgressCounts {
  done: number;
  /** Rollouts this run has to do; unknown when absent. */
  total?: number;
  failures: number;
  rewardSum: number;
  rewarded: number;
  /** Rollouts sent and not answered yet. */
  inFlight?: number;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryMs = 5_000,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** Draws `counts()` at least every few seconds (every second on a terminal) until finish(). */
  start(counts: () => ProgressCounts): void {
    this.stop();
    this.ticker = setInterval(() => this.update(counts(), true), this.tty ? 1_000 : this.plainEveryMs);
    this.ticker.unref();
  }

  update(c: ProgressCounts, force = false): void {
    const now = performance.now();
    // Plain lines come from the ticker alone once it runs (one every few seconds, not two).
    if (!force && !this.tty && this.ticker) return;
    if (!force && now - this.lastDraw < (this.tty ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? c.done / seconds : 0;
    const mean = c.rewarded ? (c.rewardSum / c.rewarded).toFixed(3) : "-";
    const done = c.total === undefined ? `${c.done}` : `${c.done}/${c.total}`;
    const inFlight = c.inFlight === undefined ? "" : `  ${c.inFlight} in flight`;
    const stats = `${done} rollouts${inFlight}  ${rate.toFixed(1)}/s  mean reward ${mean}  failures ${c.failures}`;
    if (this.tty) {
      const width = 24;
      const filled = c.total ? Math.min(width, Math.round((width * c.done) / c.total)) : c.total === 0 ? width : 0;
      this.out.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${stats}\x1b[K`);
    } else {
      this.out.write(`progress: ${stats}\n`);
    }
  }

  finish(c: ProgressCounts): void {
    this.stop();
    this.update(c, true);
    if (this.tty) this.out.write("\n");
  }

  /** Stops drawing without a last line (a run that failed: its error says why). */
  abandon(): void {
    this.stop();
    if (this.tty && this.lastDraw > 0) this.out.write("\n");
  }

  private stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
