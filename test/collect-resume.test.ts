// `gym collect` resumes: killed with SIGKILL at random moments and restarted,
// a run ends with every (row, repeat) exactly once and no torn line.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const AGENT = "example_single_tool_call_simple_agent";
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-resume-"));

/** Parses every line, failing on a torn or non-JSON one. */
function linesOf(file: string) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (text && !text.endsWith("\n")) return { torn: true, lines: [] };
  return { torn: false, lines: text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) };
}

function killAfter(args: string[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GYM, ...args], { cwd: ROOT, env: { ...process.env, GYM_LOG: "off" }, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe("gym collect resume", () => {
  it("ends with each (row, repeat) exactly once after repeated kill -9", async () => {
    const out = path.join(tmp(), "rollouts.jsonl");
    const args = ["collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "60", "--concurrency", "4"];
    const seen: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      // Start-up takes about a second; kill somewhere in the run after it.
      await killAfter(args, 900 + Math.random() * 1500);
      seen.push(linesOf(out).lines.length);
    }
    const res = await run(process.execPath, [GYM, ...args]);
    expect(res.code, res.stderr).toBe(0);
    const { torn, lines } = linesOf(out);
    expect(torn).toBe(false);
    const pairs = lines.map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`);
    expect(pairs).toHaveLength(5 * 60);
    expect(new Set(pairs).size).toBe(5 * 60);
    expect(lines.every((l) => l.reward === 1)).toBe(true);
    // The last run only did what the killed ones left.
    const resumed = Number(res.stdout.match(/\((\d+) already done, skipped\)/)?.[1] ?? 0);
    expect(resumed).toBe(seen.at(-1));
  }, 120_000);

  it("refuses an output that belongs to another run", async () => {
    const out = path.join(tmp(), "rollouts.jsonl");
    expect((await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "1"])).code).toBe(0);
    const other = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "1", "--num-repeats", "3"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("belongs to another run (num_repeats=1");
    const again = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "1"]);
    expect(again.stdout).toMatch(/^0 rollouts.*\(1 already done, skipped\)/m);
    expect(readJsonl(out)).toHaveLength(1);
  });

  it("retries recorded failures only with --retry-failed", async () => {
    const dir = tmp();
    const input = path.join(dir, "tasks.jsonl");
    const row = JSON.parse(fs.readFileSync(EXAMPLE_DATA, "utf8").split("\n")[0]!);
    fs.writeFileSync(input, JSON.stringify(row) + "\n" + JSON.stringify({ ...row, agent_ref: { name: "second_agent" } }) + "\n");
    // A config that has second_agent, for the retry.
    const config = path.join(dir, "mesh.yaml");
    const base = fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8");
    fs.writeFileSync(config, base + "  second_agent:\n    kind: agent\n    model: policy_model\n    resources: example_single_tool_call\n");
    const out = path.join(dir, "rollouts.jsonl");
    const first = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", input, "-o", out]);
    expect(first.stdout).toMatch(/^1 rollouts, .*1 failed/m);
    const again = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", input, "-o", out, "-c", config]);
    expect(again.stdout).toMatch(/^0 rollouts, .*0 failed.*\(2 already done, skipped\)/m);
    const retry = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", input, "-o", out, "-c", config, "--retry-failed"]);
    expect(retry.stdout).toMatch(/^1 rollouts, .*0 failed/m);
    expect(readJsonl(out).map((l) => (l.agent_ref as { name: string }).name).sort()).toEqual([AGENT, "second_agent"]);
    expect(readJsonl(path.join(dir, "rollouts_failures.jsonl"))).toHaveLength(0);
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "rollouts_aggregate_metrics.json"), "utf8"));
    expect(metrics.map((m: { agent_ref: { name: string }; num_rollouts: number }) => [m.agent_ref.name, m.num_rollouts])).toEqual([[AGENT, 1], ["second_agent", 1]]);
    expect(metrics[0].agent_metrics["mean/reward"]).toBe(1);
  });

  it("sets the seed of each repeat with --num-repeats-add-seed", async () => {
    const out = path.join(tmp(), "rollouts.jsonl");
    const res = await run(process.execPath, [GYM, "collect", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--limit", "1", "--num-repeats", "3", "--num-repeats-add-seed"]);
    expect(res.code, res.stderr).toBe(0);
    // As NeMo Gym writes it: JSON text in metadata.extra_body.
    const seeds = readJsonl(out).map((l) => [l._ng_rollout_index, (l.responses_create_params as { metadata: { extra_body: string } }).metadata.extra_body]);
    expect(seeds.sort()).toEqual([[0, '{"seed": 0}'], [1, '{"seed": 1}'], [2, '{"seed": 2}']]);
  });
});
