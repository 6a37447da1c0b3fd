// `gym serve --workers N` as a user runs it: N processes sharing the mesh's
// ports, reached by `gym collect --url ... --streams N`. Every rollout is
// written once with its reward (example_single_tool_call's verifier reads the
// session its get_weather call wrote, so a rollout split across workers would
// score 0); the work reaches every worker (their CPU time grows alike); a
// worker killed with SIGKILL is replaced; SIGTERM stops them all, exit 0.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-serve-workers-"));

/** The pids of a process's children. */
function children(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** CPU time (clock ticks, user + system) of a process. */
function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("gym serve --workers", () => {
  let serve: ChildProcess | undefined;
  let stderr = "";
  afterAll(() => {
    serve?.kill("SIGKILL");
  });

  it("spreads rollouts over its workers, replaces a killed one, and stops on SIGTERM", async () => {
    serve = spawn(process.execPath, [GYM, "serve", "--workers", "2"], { cwd: ROOT, env: { ...process.env, GYM_LOG: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
    serve.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const urls: Record<string, string> = {};
    for await (const line of readline.createInterface({ input: serve.stdout! })) {
      if (line === "ready") break;
      const [name, , , grpc] = line.split(/\s+/);
      if (grpc) urls[name!] = grpc;
    }
    expect(urls.rollout, stderr).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    const primary = serve.pid!;
    const workers = children(primary);
    expect(workers).toHaveLength(2);

    const collect = async (out: string, repeats: number) => {
      const res = await run(process.execPath, [GYM, "collect", "--url", urls.rollout!, "--streams", "2", "-a", "example_single_tool_call_simple_agent", "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", String(repeats), "--concurrency", "32"]);
      expect(res.code, res.stderr).toBe(0);
      const lines = readJsonl(out);
      expect(lines).toHaveLength(5 * repeats);
      expect(new Set(lines.map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`)).size).toBe(5 * repeats);
      for (const line of lines) expect(line.reward).toBe(1);
    };

    const before = workers.map(cpuTicks);
    await collect(path.join(tmp(), "a.jsonl"), 60);
    const used = workers.map((pid, i) => cpuTicks(pid) - before[i]!);
    const total = used.reduce((a, b) => a + b, 0);
    for (const u of used) expect(u, `CPU ticks per worker: ${used.join(", ")}`).toBeGreaterThan(total / 4);

    // A worker killed outright: the primary starts another on the same ports.
    process.kill(workers[0]!, "SIGKILL");
    await until("a new worker", () => children(primary).length === 2 && !children(primary).includes(workers[0]!));
    expect(stderr).toContain("starting another");
    await collect(path.join(tmp(), "b.jsonl"), 10);

    const last = children(primary);
    serve.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => serve!.once("exit", resolve));
    expect(code).toBe(0);
    for (const pid of last) expect(alive(pid)).toBe(false);
  }, 120_000);

  it("--streams needs --url; --workers cannot go with --url", async () => {
    const a = await run(process.execPath, [GYM, "collect", "--streams", "2", "-i", EXAMPLE_DATA, "-o", path.join(tmp(), "o.jsonl")]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("--streams");
  });
});
