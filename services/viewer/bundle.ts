// `gym view --bundle DIR`: the page as a static site that opens from disk
// (file://) with no server. Browsers load no module script and fetch no
// file from file:// pages, so the data is JavaScript loaded by classic
// script tags: `data/meta.js` (the runs and their summaries) and the lines
// in chunks of about a megabyte (`data/lines-RUN-SRC-N.js`), each loaded
// when the page first needs one of its lines.
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "../mesh/errors.js";
import { vendorFiles, WEB_DIR, webFiles } from "./assets.js";
import { PromptTasks, Strings } from "./columns.js";
import { ViewedRun } from "./run-files.js";

const CHUNK_BYTES = 1 << 20;
/** Where web/index.html takes the bundle's data script. */
const DATA_MARKER = "<!-- bundle-data -->";

export interface BundleSummary {
  dir: string;
  index: string;
  lines: number;
  bytes: number;
}

export async function writeBundle(files: string[], dir: string): Promise<BundleSummary> {
  if (files.length < 1 || files.length > 2) throw new UsageError("gym view takes one rollouts file, or two to compare");
  for (const file of files) if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
  // Only an empty folder, or an earlier bundle (which is replaced), is written into.
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !fs.existsSync(path.join(dir, "data", "meta.js"))) {
      throw new UsageError(`${dir}: not empty and not a gym view bundle; pick an empty or new folder`);
    }
    for (const sub of ["data", "assets", "vendor", "index.html"]) fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
  }
  for (const sub of ["data", "assets", "vendor"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });

  const strings = new Strings();
  const prompts = new PromptTasks();
  const runs = files.map((f) => new ViewedRun(f, strings, prompts));
  await Promise.all(runs.map((r) => r.refresh()));

  let bytes = 0;
  let lines = 0;
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    bytes += Buffer.byteLength(text);
  };
  // chunks["0.r"] = the first line of each chunk of that file.
  const chunks: Record<string, number[]> = {};
  const summaries: Record<string, unknown> = {};
  for (const [r, run] of runs.entries()) {
    for (const src of ["r", "f"] as const) {
      const key = `${r}.${src}`;
      const index = run.sources[src];
      summaries[key] = { gen: index.gen, ...index.columns.toJson(0) };
      const starts: number[] = (chunks[key] = []);
      let batch: string[] = [];
      let batchBytes = 0;
      const flush = () => {
        if (batch.length === 0) return;
        const n = starts.length - 1;
        write(`data/lines-${r}-${src}-${n}.js`, `GymViewBundle.chunk(${JSON.stringify(key)}, ${n}, [\n${batch.join(",\n")}\n]);\n`);
        batch = [];
        batchBytes = 0;
      };
      await index.eachLine((text, i) => {
        if (batch.length === 0) starts.push(i);
        batch.push(JSON.stringify(text));
        batchBytes += text.length;
        lines++;
        if (batchBytes >= CHUNK_BYTES) flush();
      });
      flush();
    }
  }
  const data = { meta: { runs: runs.map((r) => r.state()), strings: strings.table, live: false }, summaries, chunks };
  write("data/meta.js", `// gym view --bundle: the runs and their summaries.\nvar GymViewBundle = ${JSON.stringify(data)};\n`);

  for (const name of webFiles()) {
    if (name === "index.html") continue;
    fs.copyFileSync(path.join(WEB_DIR, name), path.join(dir, "assets", name));
  }
  for (const [name, file] of Object.entries(vendorFiles())) fs.copyFileSync(file, path.join(dir, "vendor", name));
  const html = fs.readFileSync(path.join(WEB_DIR, "index.html"), "utf8");
  if (!html.includes(DATA_MARKER)) throw new Error(`web/index.html has no ${DATA_MARKER}`);
  write("index.html", html.replace(DATA_MARKER, '<script src="data/meta.js"></script>'));
  return { dir, index: path.join(dir, "index.html"), lines, bytes };
}
