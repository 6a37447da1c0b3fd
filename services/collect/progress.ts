// Collection progress on stderr: a redrawn bar on a terminal, plain lines
// (every few seconds) when output goes to a file or a CI log.
export interface ProgressCounts {
  done: number;
  total: number;
  failures: number;
  rewardSum: number;
  rewarded: number;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryMs = 5_000,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(c: ProgressCounts, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < (this.tty ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? c.done / seconds : 0;
    const mean = c.rewarded ? (c.rewardSum / c.rewarded).toFixed(3) : "-";
    const stats = `${c.done}/${c.total} rollouts  ${rate.toFixed(1)}/s  mean reward ${mean}  failures ${c.failures}`;
    if (this.tty) {
      const width = 24;
      const filled = c.total ? Math.round((width * c.done) / c.total) : width;
      this.out.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${stats}\x1b[K`);
    } else {
      this.out.write(`progress: ${stats}\n`);
    }
  }

  finish(c: ProgressCounts): void {
    this.update(c, true);
    if (this.tty) this.out.write("\n");
  }
}
