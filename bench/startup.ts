// Start-up cost of the gym command (`npm run bench:startup`): the compiled
// build (dist/, what the image runs) against the TypeScript sources run
// through tsx, for `gym --help` and for `gym serve` of one instance until it
// prints "ready" (wall time, and the server's peak memory then). Builds dist/
// first. Writes bench/startup.md. Not a test: it asserts nothing.
//
//   npm run bench:startup [-- --runs 7 --instance example_single_tool_call]
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { percentile, processStats } from "./proc.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GYM = path.join(ROOT, "bin/gym.js");
const SHAPES = { compiled: {}, sources: { GYM_FROM_SOURCES: "1" } } as const;

const opts = new Command("bench:startup")
  .option("--runs <n>", "runs per figure (the median is reported)", (v) => Number(v), 7)
  .option("--instance <name>", "the default config's instance to serve", "example_single_tool_call")
  .parse()
  .opts<{ runs: number; instance: string }>();

function helpMs(env: Record<string, string>): number {
  const start = performance.now();
  execFileSync(process.execPath, [GYM, "--help"], { env: { ...process.env, ...env }, stdio: "ignore" });
  return performance.now() - start;
}

/** Starts `gym serve --only instance`, waits for "ready": wall ms and the peak RSS then. */
function serve(env: Record<string, string>): Promise<{ ms: number; rssMb: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, [GYM, "serve", "--only", opts.instance], { env: { ...process.env, GYM_LOG: "off", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("exit", (code) => reject(new Error(`gym serve exited ${code} before ready`)));
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
      if (!/^ready$/m.test(out)) return;
      const ms = performance.now() - start;
      const rssMb = processStats(child.pid!).peakRssMb;
      child.removeAllListeners("exit");
      child.on("exit", () => resolve({ ms, rssMb }));
      child.kill("SIGTERM");
    });
  });
}

execFileSync(process.execPath, [path.join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
const rows: string[] = [];
for (const [shape, env] of Object.entries(SHAPES)) {
  const help: number[] = [];
  const ready: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    help.push(helpMs(env));
    const s = await serve(env);
    ready.push(s.ms);
    rss.push(s.rssMb);
  }
  const row = `| ${shape} | ${percentile(help, 50).toFixed(0)} | ${percentile(ready, 50).toFixed(0)} | ${percentile(rss, 50).toFixed(0)} |`;
  console.log(row);
  rows.push(row);
}
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}`;
const table = [
  `# gym start-up: compiled build vs TypeScript sources`,
  ``,
  `Median of ${opts.runs} runs on ${machine}; \`gym serve --only ${opts.instance}\` of config/default.yaml until it prints "ready".`,
  `The sources run through tsx with its transform cache warm (a cold cache costs more).`,
  ``,
  `| gym from | --help ms | serve until ready ms | serve peak RSS MB |`,
  `| --- | --- | --- | --- |`,
  ...rows,
  ``,
].join("\n");
fs.writeFileSync(path.join(ROOT, "bench/startup.md"), table);
