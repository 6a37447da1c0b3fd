// Following files as they are written: every `pollMs` each run's files are
// looked at (a stat; fs.watch misses events on some file systems and for
// files not made yet), what was appended is indexed, and every open page
// gets the new counts as a server-sent event. The page then fetches the new
// lines' summaries.
import type { IncomingMessage, ServerResponse } from "node:http";
import { log } from "../mesh/log.js";
import type { ViewedRun } from "./run-files.js";

const KEEPALIVE_MS = 15_000;

export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private moving = false;

  constructor(
    private readonly runs: ViewedRun[],
    private readonly state: () => unknown,
    private readonly pollMs = 500,
  ) {}

  /** Starts looking at the files (after their first indexing). */
  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        const changed = await Promise.all(this.runs.map((r) => r.refresh()));
        // While lines land (and once after), the rate moves too: the page hears of it.
        const moving = this.runs.some((r) => r.rate() > 0);
        if (changed.some(Boolean) || moving || this.moving) this.broadcast();
        this.moving = moving;
      } catch (err) {
        log.warn("viewer_refresh_failed", { message: (err as Error).message });
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
    };
    this.timer = setTimeout(tick, this.pollMs);
    // Proxies and browsers drop an idle stream; a comment line keeps it open.
    this.keepalive = setInterval(() => this.write(": ping\n\n"), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    this.clients.add(res);
    req.on("close", () => this.clients.delete(res));
    res.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(this.state())}\n\n`);
  }

  broadcast(): void {
    this.write(`event: state\ndata: ${JSON.stringify(this.state())}\n\n`);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.keepalive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}
