// One run the viewer shows: a rollouts file and, beside it, the
// `<stem>_failures.jsonl` that gym collect writes (failures are shown as
// failures, with their code, never as reward 0). Both are indexed, and
// followed while they grow.
import * as path from "node:path";
import { PromptTasks, Strings } from "./columns.js";
import { LineIndex, type IndexState } from "./line-index.js";

/** The two files of a run, as the page names them. */
export type SourceId = "r" | "f";

/** `<stem>_failures.jsonl` beside a rollouts file (as collect/collector.ts's sidecarPaths names it). */
export function failuresPathOf(file: string): string {
  const { dir, name } = path.parse(file);
  return path.join(dir, `${name}_failures.jsonl`);
}

/** `<stem>_traces.jsonl` beside a rollouts file: where `gym collect` has the file exporter write its spans (OTLP-JSON lines). */
export function tracesPathOf(file: string): string {
  const { dir, name } = path.parse(file);
  return path.join(dir, `${name}_traces.jsonl`);
}

export interface RunState {
  name: string;
  path: string;
  failuresPath: string;
  r: IndexState;
  f: IndexState;
  /** Lines indexed per second over the last few seconds (rollouts and failures). */
  rate: number;
}

const RATE_WINDOW_MS = 10_000;

export class ViewedRun {
  readonly sources: Record<SourceId, LineIndex>;
  private samples: { at: number; rows: number }[] = [];

  constructor(
    readonly file: string,
    strings: Strings,
    prompts: PromptTasks,
  ) {
    this.sources = {
      r: new LineIndex(file, "rollouts", strings, prompts),
      f: new LineIndex(failuresPathOf(file), "failures", strings, prompts),
    };
  }

  /** Indexes what both files gained; true when anything changed (lines, a reset, a torn tail). */
  async refresh(): Promise<boolean> {
    const before = JSON.stringify([this.sources.r.state(), this.sources.f.state()]);
    await Promise.all([this.sources.r.refresh(), this.sources.f.refresh()]);
    const rows = this.sources.r.state().rows + this.sources.f.state().rows;
    const now = Date.now();
    this.samples.push({ at: now, rows });
    while (this.samples.length > 2 && now - this.samples[1]!.at > RATE_WINDOW_MS) this.samples.shift();
    return before !== JSON.stringify([this.sources.r.state(), this.sources.f.state()]);
  }

  /** Lines per second over the window (0 before two looks or when nothing landed). */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at === first.at) return 0;
    return Math.max(0, ((last.rows - first.rows) * 1000) / (last.at - first.at));
  }

  state(): RunState {
    return {
      name: path.basename(this.file),
      path: this.file,
      failuresPath: this.sources.f.file,
      r: this.sources.r.state(),
      f: this.sources.f.state(),
      rate: this.rate(),
    };
  }
}
