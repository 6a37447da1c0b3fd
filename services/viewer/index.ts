// `gym view`'s server: indexes the files (one run each, with its failures
// file), serves the page and its API on 127.0.0.1 only, and follows the
// files while they grow. `gym collect --view` starts the same on its output.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../mesh/errors.js";
import { PromptTasks, Strings } from "./columns.js";
import { LiveEvents } from "./live.js";
import { tracesPathOf, ViewedRun } from "./run-files.js";
import { TraceIndex } from "./traces.js";
import { meta, viewerHandler } from "./routes.js";

/** The port tried first when none is given; a busy one falls back to a free port. */
export const DEFAULT_PORT = 8750;

export interface ViewerOptions {
  /** One or two rollouts files (the second is compared with the first). */
  files: string[];
  /** 0 for a free port; default DEFAULT_PORT, or a free one when it is taken. */
  port?: number;
  /** Files may be missing (they are waited for): `collect --view` starts before its output exists. */
  allowMissing?: boolean;
  /** How often the files are looked at for new lines. */
  pollMs?: number;
  /** Spans (OTLP-JSON lines) to draw under the rollouts; default the `<stem>_traces.jsonl` beside each rollouts file. */
  traces?: string;
  /** A trace UI's URL with `{trace_id}` (e.g. `http://jaeger:16686/trace/{trace_id}`): traced rollouts link to it. */
  traceUrl?: string;
}

export interface Viewer {
  url: string;
  runs: ViewedRun[];
  close(): Promise<void>;
}

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  if (options.files.length < 1 || options.files.length > 2) throw new UsageError("gym view takes one rollouts file, or two to compare");
  for (const file of options.files) {
    if (!options.allowMissing && !fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`${file}: a folder, not a rollouts file`);
  }
  // One string table and prompt numbering for both runs: their ids match.
  const strings = new Strings();
  const prompts = new PromptTasks();
  const runs = options.files.map((f) => new ViewedRun(f, strings, prompts));
  let port = 0;
  const traces = new TraceIndex(options.traces ? [options.traces] : options.files.map(tracesPathOf));
  const traceUrl = options.traceUrl;
  if (traceUrl !== undefined && !/^https?:\/\/.*\{trace_id\}/.test(traceUrl)) {
    throw new UsageError(`--trace-url: want an http(s) URL with {trace_id} in it, not ${JSON.stringify(traceUrl)}`);
  }
  const live = new LiveEvents(runs, () => meta({ runs, strings, traces, traceUrl }), options.pollMs);
  // The handler first: it finds the page's files, and fails before a long indexing if they are missing.
  const server = http.createServer(viewerHandler({ runs, strings, live, traces, traceUrl, port: () => port }));
  await Promise.all(runs.map((r) => r.refresh()));
  port = await listen(server, options.port);
  live.start();
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    runs,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        live.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Listens on 127.0.0.1: the port asked for, or the default and else a free one. */
async function listen(server: http.Server, port: number | undefined): Promise<number> {
  const attempt = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once("error", onError);
      server.listen(p, "127.0.0.1", () => {
        server.off("error", onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  try {
    return await attempt(port ?? DEFAULT_PORT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    if (port !== undefined) throw new UsageError(`port ${port} is in use: pick another with --port, or --port 0 for a free one`);
    return attempt(0);
  }
}
