// What `gym view` prints: the page's URL and what each file holds, or where
// the bundle went. The CLI (cli/main.ts) adds the signals that stop it.
import { UsageError } from "../mesh/errors.js";
import { writeBundle } from "./bundle.js";
import { startViewer, type Viewer } from "./index.js";

export interface ViewCliOptions {
  port?: number;
  bundle?: string;
  /** --traces: spans to draw under the rollouts (default `<stem>_traces.jsonl` beside each file). */
  traces?: string;
  /** --trace-url (or GYM_TRACE_URL): a trace UI's URL with `{trace_id}`. */
  traceUrl?: string;
}

/** A --port value: 0 (a free port) to 65535. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: want 0 to 65535, not ${value}`);
  return n;
}

/** Writes the bundle and returns at once, or starts the server and returns it (running until closed). */
export async function runView(files: string[], opts: ViewCliOptions, print = (line: string) => console.log(line)): Promise<Viewer | undefined> {
  if (opts.bundle) {
    const b = await writeBundle(files, opts.bundle);
    print(`bundle: ${b.index}  (${b.lines} lines, ${(b.bytes / 1e6).toFixed(1)} MB of data; opens from disk, no server)`);
    return undefined;
  }
  const viewer = await startViewer({ files, port: opts.port, traces: opts.traces, traceUrl: opts.traceUrl || process.env.GYM_TRACE_URL || undefined });
  for (const run of viewer.runs) {
    const s = run.state();
    const torn = s.r.tornBytes ? `, a torn last line (${s.r.tornBytes} bytes) waits for its end` : "";
    print(`${s.path}: ${s.r.rows} rollouts, ${s.f.rows} failures${torn}`);
  }
  print(`viewer: ${viewer.url}   (follows the files as they grow; Ctrl-C stops)`);
  return viewer;
}
