// The viewer's HTTP routes: the page's static files, and a small JSON API
// over the runs' indexes (the page does the filtering, grouping and counting
// on the summaries; the server reads lines and searches the files).
//
//   GET /                       the page (web/index.html)
//   GET /assets/NAME, /vendor/NAME   its scripts and styles
//   GET /api/meta               the runs, their files and counts
//   GET /api/summaries?run&src&from&gen   summaries of lines from `from` on (all when `gen` is stale)
//   GET /api/line?run&src&i&gen the text of one line
//   GET /api/search?run&q       numbers of the lines that match a regex
//   GET /api/events             server-sent events: the runs' counts as lines land (live.ts)
//   GET /api/trace?id           the spans of one trace, from the traces files (traces.ts)
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { UsageError } from "../mesh/errors.js";
import { contentType, vendorFiles, WEB_DIR, webFiles } from "./assets.js";
import type { Strings } from "./columns.js";
import type { LiveEvents } from "./live.js";
import type { SourceId, ViewedRun } from "./run-files.js";
import { searchPattern, searchRun } from "./search.js";
import type { TraceIndex } from "./traces.js";

export interface ViewerState {
  runs: ViewedRun[];
  strings: Strings;
  live: LiveEvents;
  /** The spans of the runs' traces (OTLP-JSON lines), when there are any. */
  traces?: TraceIndex;
  /** A trace UI's URL with `{trace_id}` in it: each traced rollout links to its trace. */
  traceUrl?: string;
  /** The port, once listening: only requests naming 127.0.0.1/localhost on it are served (no DNS rebinding). */
  port(): number;
}

// The page loads nothing from elsewhere: rollouts may hold any markdown (remote images too).
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function viewerHandler(state: ViewerState) {
  const vendor = vendorFiles();
  const web = new Set(webFiles());

  const sendJson = (res: ServerResponse, body: unknown) => send(res, 200, "application/json; charset=utf-8", JSON.stringify(body));

  const runOf = (url: URL): ViewedRun => {
    const run = state.runs[Number(url.searchParams.get("run") ?? "0")];
    if (!run) throw new HttpError(404, "no such run");
    return run;
  };
  const srcOf = (url: URL): SourceId => {
    const src = url.searchParams.get("src");
    if (src !== "r" && src !== "f") throw new HttpError(400, "src must be r or f");
    return src;
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = url.pathname;
    if (p === "/" || p === "/index.html") return sendFile(res, path.join(WEB_DIR, "index.html"));
    if (p.startsWith("/assets/")) {
      const name = p.slice("/assets/".length);
      if (!web.has(name)) throw new HttpError(404, "not found");
      return sendFile(res, path.join(WEB_DIR, name));
    }
    if (p.startsWith("/vendor/")) {
      const file = vendor[p.slice("/vendor/".length)];
      if (!file) throw new HttpError(404, "not found");
      return sendFile(res, file);
    }
    if (p === "/api/meta") return sendJson(res, meta(state));
    if (p === "/api/summaries") {
      const index = runOf(url).sources[srcOf(url)];
      const gen = Number(url.searchParams.get("gen") ?? index.gen);
      const from = gen === index.gen ? Number(url.searchParams.get("from") ?? 0) : 0;
      return sendJson(res, { gen: index.gen, ...index.columns.toJson(from), strings: state.strings.table });
    }
    if (p === "/api/line") {
      const index = runOf(url).sources[srcOf(url)];
      const gen = Number(url.searchParams.get("gen") ?? index.gen);
      if (gen !== index.gen) throw new HttpError(409, "the file changed: reload");
      const text = await index.readLine(Number(url.searchParams.get("i")), gen);
      if (text === undefined) throw new HttpError(404, "no such line");
      return send(res, 200, "application/json; charset=utf-8", text);
    }
    if (p === "/api/search") {
      let pattern: RegExp;
      try {
        pattern = searchPattern(url.searchParams.get("q") ?? "");
      } catch (err) {
        throw new HttpError(400, (err as UsageError).message);
      }
      return sendJson(res, await searchRun(runOf(url), pattern));
    }
    if (p === "/api/events") return state.live.subscribe(req, res);
    if (p === "/api/trace") return sendJson(res, { spans: state.traces ? await state.traces.trace(url.searchParams.get("id") ?? "") : [] });
    throw new HttpError(404, "not found");
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://viewer");
    const host = req.headers.host ?? "";
    const port = state.port();
    if (![`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host)) {
      return send(res, 403, "text/plain", "forbidden host\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "GET only\n");
    route(req, res, url).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (!res.headersSent) send(res, status, "application/json; charset=utf-8", JSON.stringify({ error: (err as Error).message }));
      else res.destroy();
    });
  };
}

/** The runs as the page first sees them. */
export function meta(state: Pick<ViewerState, "runs" | "strings" | "traces" | "traceUrl">) {
  return {
    runs: state.runs.map((r) => r.state()),
    strings: state.strings.table,
    live: true,
    traceUrl: state.traceUrl ?? "",
    traces: state.traces?.available() ?? false,
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...SECURITY_HEADERS });
  res.end(body);
}

async function sendFile(res: ServerResponse, file: string): Promise<void> {
  const body = await fs.promises.readFile(file);
  send(res, 200, contentType(file), body);
}
