// `gym collect` as an operator meets it: one writer per output, a clean stop
// on SIGTERM/SIGINT, failure records that survive a killed retry, one-line
// errors for the usual mistakes (and no stray files), memory bounded by the
// concurrency, and progress while rollouts hang.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { RolloutService } from "../gen/gymmesh/v1/rollout_pb.js";
import { setQuiet } from "../services/mesh/log.js";
import { hosted, serve } from "../services/mesh/serve.js";
import { EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const AGENT = "example_single_tool_call_simple_agent";
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-ops-"));

/** config/default.yaml with these lines added to the mock model (latency_s, stall_rate...), plus more YAML at the end. */
function meshConfig(dir: string, mockKnobs: string[], extra = ""): string {
  const base = fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8");
  const file = path.join(dir, `mesh-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, base.replace("    kind: mock_model\n", `    kind: mock_model\n${mockKnobs.map((k) => `    ${k}\n`).join("")}`) + extra);
  return file;
}

interface Gym {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves once stderr (or stdout) matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

function gym(args: string[], env: NodeJS.ProcessEnv = {}): Gym {
  const child = spawn(process.execPath, [GYM, ...args], { cwd: ROOT, env: { ...process.env, GYM_LOG: "off", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    exited,
    async waitFor(re, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!re.test(stderr) && !re.test(stdout)) {
        if (Date.now() > until) throw new Error(`no ${re} within ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
        if (child.exitCode !== null) throw new Error(`gym exited (${child.exitCode}) before ${re}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const until = async (what: string, cond: () => boolean, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const linesIn = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0);

/** (row, repeat) pairs of an output file; fails on a torn line. */
function pairsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  expect(text === "" || text.endsWith("\n"), "a torn last line").toBe(true);
  return readJsonl(file).map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`);
}

/** One line on stderr, `gym: ...`, and no stack. */
function expectOneLineError(stderr: string, re: RegExp) {
  expect(stderr).toMatch(/^gym: [^\n]+\n$/);
  expect(stderr).toMatch(re);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("gym collect: one writer per output", () => {
  it("refuses a second collector on the same output, naming the first, which completes correctly", async () => {
    const dir = tmp();
    const config = meshConfig(dir, ["latency_s: 0.2"]);
    const out = path.join(dir, "rollouts.jsonl");
    const args = ["collect", "-c", config, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "8", "--concurrency", "4"];
    const first = gym(args);
    await until("the first collector's lock", () => fs.existsSync(path.join(dir, "rollouts.lock")));
    const second = await run(process.execPath, [GYM, ...args]);
    expect(second.code).toBe(2);
    expectOneLineError(second.stderr, new RegExp(`^gym: ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is being written by pid ${first.child.pid} \\(since [^)]+\\); wait for it or stop it\\n$`));
    expect(first.child.exitCode, "the first collector was still running when the second was refused").toBeNull();

    const done = await first.exited;
    expect(done.code, first.err()).toBe(0);
    const pairs = pairsOf(out);
    expect(pairs).toHaveLength(5 * 8);
    expect(new Set(pairs).size).toBe(5 * 8);
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "rollouts_aggregate_metrics.json"), "utf8"));
    expect(metrics[0].num_rollouts).toBe(40);
    // k is the number of repeats (two writers would make it 16).
    const ks = Object.keys(metrics[0].agent_metrics).flatMap((k) => k.match(/^pass@(\d+)\/accuracy$/)?.[1] ?? []).map(Number);
    expect(Math.max(...ks)).toBe(8);
    expect(fs.existsSync(path.join(dir, "rollouts.lock")), "the lock is released").toBe(false);
  }, 90_000);

  it("takes over the lock of a collector that is gone, with a note", async () => {
    const dir = tmp();
    const out = path.join(dir, "rollouts.jsonl");
    // A collector killed with -9 leaves its lock; its pid no longer runs.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    fs.writeFileSync(path.join(dir, "rollouts.lock"), JSON.stringify({ pid: dead.pid, hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z" }) + "\n");
    const res = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "2"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`gym: taking over ${path.join(dir, "rollouts.lock")}: pid ${dead.pid} (since 2020-01-01T00:00:00.000Z) is gone`);
    expect(pairsOf(out).sort()).toEqual(["0/0", "1/0"]);
    expect(fs.existsSync(path.join(dir, "rollouts.lock"))).toBe(false);
  }, 60_000);
});

describe("gym collect: stopping", () => {
  it("on SIGTERM sends nothing new, writes what finished and the metrics, exits 143; a re-run completes exactly once", async () => {
    const dir = tmp();
    const config = meshConfig(dir, ["latency_s: 0.2"]);
    const out = path.join(dir, "rollouts.jsonl");
    const args = ["collect", "-c", config, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "40", "--concurrency", "4"];
    const first = gym(args);
    await until("some rollouts written", () => linesIn(out) >= 4);
    first.child.kill("SIGTERM");
    const stopped = await first.exited;
    expect(stopped.code, first.err()).toBe(143);
    expect(first.err()).toMatch(/^gym: SIGTERM: sending no new rollouts; waiting up to 10 s for those in flight/m);
    expect(first.err()).toMatch(/^gym: interrupted by SIGTERM; run the same command again to resume$/m);
    const written = pairsOf(out);
    expect(written.length).toBeLessThan(200);
    expect(new Set(written).size).toBe(written.length);
    // The summary and the metrics cover what finished.
    expect(first.out()).toMatch(new RegExp(`^${written.length} rollouts, mean reward 1\\.0000, 0 failed`, "m"));
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "rollouts_aggregate_metrics.json"), "utf8"));
    expect(metrics[0].num_rollouts).toBe(written.length);
    expect(fs.existsSync(path.join(dir, "rollouts.lock"))).toBe(false);

    const again = await run(process.execPath, [GYM, ...args.slice(0, -1), "32"]); // --concurrency is not part of the run
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`\\(${written.length} already done, skipped\\)`));
    const pairs = pairsOf(out);
    expect(pairs).toHaveLength(200);
    expect(new Set(pairs).size).toBe(200);
  }, 90_000);

  it("with rollouts hung: progress lines every few seconds, then SIGTERM ends within the drain time; a second signal exits at once", async () => {
    const dir = tmp();
    const config = meshConfig(dir, ["stall_rate: 1"]); // the model never answers
    const out = path.join(dir, "rollouts.jsonl");
    const args = ["collect", "-c", config, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--concurrency", "3", "--drain-timeout-s", "1"];

    // Progress while nothing finishes: in flight, done, failed.
    const hung = gym(args);
    await hung.waitFor(/(^progress: 0\/5 rollouts {2}3 in flight .*failures 0$[\s\S]*){2}/m, 30_000);
    const sent = Date.now();
    hung.child.kill("SIGTERM");
    const ended = await hung.exited;
    expect(ended.code, hung.err()).toBe(143);
    expect(ended.at - sent, "bounded by --drain-timeout-s").toBeLessThan(8_000);
    expect(hung.err()).toMatch(/^gym: interrupted by SIGTERM; 3 rollouts still in flight were dropped; run the same command again to resume$/m);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "rollouts_aggregate_metrics.json"), "utf8"))).toEqual([]);
    expect(fs.existsSync(path.join(dir, "rollouts.lock"))).toBe(false);

    // SIGINT, then SIGINT again: out at once, resumable.
    const twice = gym([...args.slice(0, -2), "--drain-timeout-s", "60"]);
    await twice.waitFor(/^progress: .*3 in flight/m, 30_000);
    twice.child.kill("SIGINT");
    await twice.waitFor(/^gym: SIGINT: sending no new rollouts; waiting up to 60 s/m, 10_000);
    const again = Date.now();
    twice.child.kill("SIGINT");
    const out2 = await twice.exited;
    expect(out2.code).toBe(130);
    expect(out2.at - again).toBeLessThan(2_000);
    expect(twice.err()).toMatch(/^gym: SIGINT again: exiting now$/m);
    expect(fs.existsSync(path.join(dir, "rollouts.lock")), "the lock goes with the process").toBe(false);
  }, 90_000);
});

describe("gym collect --retry-failed", () => {
  it("keeps each failure record until its retry has a result: a kill -9 mid-retry loses none", async () => {
    const dir = tmp();
    const input = path.join(dir, "tasks.jsonl");
    const row = JSON.parse(fs.readFileSync(EXAMPLE_DATA, "utf8").split("\n")[0]!);
    fs.writeFileSync(input, JSON.stringify(row) + "\n" + JSON.stringify({ ...row, agent_ref: { name: "second_agent" } }) + "\n");
    const out = path.join(dir, "rollouts.jsonl");
    const failuresFile = path.join(dir, "rollouts_failures.jsonl");
    const base = ["collect", "-a", AGENT, "-i", input, "-o", out, "--num-repeats", "3"];
    // No second_agent in the default mesh: 3 failures.
    const first = await run(process.execPath, [GYM, ...base]);
    expect(first.stdout).toMatch(/^3 rollouts, .*3 failed/m);
    expect(first.stdout).toContain(`3 failures recorded in ${failuresFile}: run again with --retry-failed to retry them`);
    const recorded = readJsonl(failuresFile);
    expect(recorded).toHaveLength(3);

    // The retry's model hangs; the retry is killed while its rollouts are in flight.
    const agentLines = "  second_agent:\n    kind: agent\n    model: policy_model\n    resources: example_single_tool_call\n";
    const hung = gym([...base, "-c", meshConfig(dir, ["stall_rate: 1"], agentLines), "--retry-failed"]);
    await hung.waitFor(/^progress: .*3 in flight/m, 30_000);
    hung.child.kill("SIGKILL");
    await hung.exited;
    expect(readJsonl(failuresFile)).toEqual(recorded);

    // A re-run says what is recorded and how to retry it.
    const rerun = await run(process.execPath, [GYM, ...base]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/^0 rollouts, .*0 failed.*\(6 already done, skipped\)/m);
    expect(rerun.stdout).toContain(`3 failures recorded in ${failuresFile}: run again with --retry-failed to retry them`);

    // A retry that works: the records go as their results come.
    const retry = await run(process.execPath, [GYM, ...base, "-c", meshConfig(dir, [], agentLines), "--retry-failed"]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(/^3 rollouts, .*0 failed/m);
    expect(retry.stdout).not.toContain("failures recorded");
    expect(readJsonl(failuresFile)).toEqual([]);
    const pairs = pairsOf(out).sort();
    expect(pairs).toEqual(["0/0", "0/1", "0/2", "1/0", "1/1", "1/2"]);
  }, 120_000);
});

describe("gym collect: the run record", () => {
  it("an empty or damaged record: a one-line error saying what to do (or rewritten when there is nothing to lose)", async () => {
    const dir = tmp();
    const out = path.join(dir, "rollouts.jsonl");
    const record = path.join(dir, "rollouts_run.json");
    const args = [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "2"];
    // An empty record and no results (a start on a full disk, by an older gym collect): rewritten.
    fs.writeFileSync(record, "");
    const res = await run(process.execPath, args);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(record, "utf8")).num_repeats).toBe(1);
    for (const damaged of ["", '{"input_sha256": "ab']) {
      fs.writeFileSync(record, damaged);
      const again = await run(process.execPath, args);
      expect(again.code).toBe(2);
      expectOneLineError(again.stderr, new RegExp(`^gym: ${record.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is damaged \\(empty or not a run record\\), so .* cannot be resumed; run again with --fresh to start over\\n$`));
    }
    const fresh = await run(process.execPath, [...args, "--fresh"]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(pairsOf(out).sort()).toEqual(["0/0", "1/0"]);
  }, 60_000);

  it.skipIf(!fs.existsSync("/dev/full"))("a full disk while writing it: a one-line error, no record, no stray files", async () => {
    const dir = tmp();
    const out = path.join(dir, "rollouts.jsonl");
    // The record's temporary copy lands on a device that is always full.
    fs.symlinkSync("/dev/full", path.join(dir, "rollouts_run.json.tmp"));
    const res = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out]);
    expect(res.code).toBe(2);
    expectOneLineError(res.stderr, /^gym: cannot write .*rollouts_run\.json: no space left on the device \(ENOSPC\)\n$/);
    expect(fs.readdirSync(dir)).toEqual([]);
    // With room again, the same command runs.
    const again = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out]);
    expect(again.code, again.stderr).toBe(0);
    expect(pairsOf(out)).toHaveLength(5);
  }, 60_000);
});

/** A 48 KiB tmpfs (root only), or undefined where mounting is not allowed. */
function smallDisk(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = tmp();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=48k", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    return undefined;
  }
}

describe("gym collect: a disk that fills up", () => {
  const disk = smallDisk();
  afterAll(() => {
    if (disk) execFileSync("umount", [disk]);
  });
  it.skipIf(!disk)("in the middle of a run: a one-line error, whole lines only, no lock left; resumable once there is room", async () => {
    const out = path.join(disk!, "rollouts.jsonl");
    const args = ["collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "20", "--concurrency", "4"];
    const res = await run(process.execPath, [GYM, ...args]);
    expect(res.code).toBe(2);
    expectOneLineError(res.stderr, new RegExp(`^gym: cannot write ${disk}/rollouts\\.jsonl: no space left on the device \\(ENOSPC\\)\\n$`));
    const written = pairsOf(out);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(100);
    expect(fs.readdirSync(disk!).sort()).toEqual(["rollouts.jsonl", "rollouts_run.json"]);
    // Room again (the same files on a bigger disk): the run resumes and completes.
    execFileSync("mount", ["-o", "remount,size=4m", disk!]);
    const again = await run(process.execPath, [GYM, ...args]);
    expect(again.code, again.stderr).toBe(0);
    const pairs = pairsOf(out);
    expect(pairs).toHaveLength(100);
    expect(new Set(pairs).size).toBe(100);
  }, 60_000);
});

describe("gym collect: one-line errors and no stray files", () => {
  let fake: Awaited<ReturnType<typeof serve>> | undefined;
  afterAll(async () => {
    await fake?.close();
  });

  const mistakes: [string, (dir: string) => string[], RegExp][] = [
    ["a --url without a scheme", (d) => ["--url", "127.0.0.1:8080", "-i", EXAMPLE_DATA, "-o", path.join(d, "out/r.jsonl")], /^gym: --url: .*bad URL "127\.0\.0\.1:8080"/],
    ["a --url nothing listens on", (d) => ["--url", "http://127.0.0.1:9", "-i", EXAMPLE_DATA, "-o", path.join(d, "out/r.jsonl")], /^gym: cannot reach the rollout service at http:\/\/127\.0\.0\.1:9 \(unavailable: .*\); is gym serve running there\?/],
    ["a missing input", (d) => ["-i", path.join(d, "nope.jsonl"), "-o", path.join(d, "out/r.jsonl")], /^gym: --input .*nope\.jsonl: no such file$/m],
    ["an input that is a folder", (d) => ["-i", d, "-o", path.join(d, "out/r.jsonl")], /^gym: --input .*: not a file$/m],
    ["an output under a file", (d) => ["-i", EXAMPLE_DATA, "-o", path.join(d, "file/r.jsonl")], /^gym: cannot create the folder of .*file\/r\.jsonl: a part of its path is a file, not a folder$/m],
  ];
  for (const [what, args, message] of mistakes) {
    it(what, async () => {
      const dir = tmp();
      if (what.includes("under a file")) fs.writeFileSync(path.join(dir, "file"), "");
      const before = fs.readdirSync(dir);
      const res = await run(process.execPath, [GYM, "collect", "-a", AGENT, ...args(dir)]);
      expect(res.code).toBe(2);
      expectOneLineError(res.stderr, message);
      expect(fs.readdirSync(dir)).toEqual(before);
    }, 60_000);
  }

  it("a bad option value: commander's one line, exit 2", async () => {
    const dir = tmp();
    const res = await run(process.execPath, [GYM, "collect", "-i", EXAMPLE_DATA, "-o", path.join(dir, "r.jsonl"), "--drain-timeout-s", "soon"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("error: option '--drain-timeout-s <s>' argument 'soon' is invalid. want seconds (0 or more)\n");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a --url that is not the rollout service", async () => {
    setQuiet(true);
    const other = await serve({ name: "not_rollout", host: "127.0.0.1", port: 0, services: [hosted(AgentService, {})] });
    try {
      const dir = tmp();
      const res = await run(process.execPath, [GYM, "collect", "--url", other.url, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", path.join(dir, "r.jsonl")]);
      expect(res.code).toBe(2);
      expectOneLineError(res.stderr, /^gym: --url http:\/\/127\.0\.0\.1:\d+ is not the rollout service \(it does not serve gymmesh\.v1\.RolloutService\): pass the rollout instance's URL, as gym serve prints it\n$/);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it("a stream the rollout service refuses: one line, and a run that wrote nothing leaves nothing", async () => {
    // A rollout service that is up (health says so) but refuses every stream.
    setQuiet(true);
    fake = await serve({
      name: "refusing_rollout",
      host: "127.0.0.1",
      port: 0,
      services: [
        hosted(RolloutService, {
          // eslint-disable-next-line require-yield
          async *collect() {
            throw new ConnectError("not for you", Code.PermissionDenied);
          },
        }),
      ],
    });
    const dir = tmp();
    const res = await run(process.execPath, [GYM, "collect", "--url", fake.url, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", path.join(dir, "out/r.jsonl")]);
    expect(res.code).toBe(2);
    expectOneLineError(res.stderr, /^gym: the Collect stream failed: permission_denied: not for you; what finished is written: run the same command again to resume\n$/);
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe("gym collect: lazy input", () => {
  it("--num-repeats 100000000 starts at once and its memory stays small", async () => {
    const dir = tmp();
    const out = path.join(dir, "rollouts.jsonl");
    const started = Date.now();
    // One mesh (--workers 1): the bound is on what the input costs, not on how many meshes run.
    const big = gym(["collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "100000000", "--limit", "1", "--concurrency", "2", "--workers", "1"]);
    await until("the first rollouts", () => linesIn(out) >= 2, 30_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The progress line knows the total without having built the work list.
    await big.waitFor(/^progress: \d+\/100000000 rollouts {2}\d in flight/m, 15_000);
    const status = fs.readFileSync(`/proc/${big.child.pid}/status`, "utf8");
    const rssMb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]) / 1024;
    big.child.kill("SIGKILL");
    await big.exited;
    expect(rssMb).toBeGreaterThan(0);
    expect(rssMb).toBeLessThan(300);
  }, 60_000);
});
