// `gym collect --workers N`: the config's mesh in N worker threads. The
// rollouts must be the ones one mesh writes (each once, the same rewards),
// the work must reach every worker, and a rollout must stay on its worker
// (example_single_tool_call's verifier reads the session its get_weather call
// wrote: a session served by another worker would score 0).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMeshWorkers, type MeshWorkers } from "../services/app/mesh-workers.js";
import { collectFile } from "../services/collect/collector.js";
import { EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const GRPO = path.join(ROOT, "config/grpo.yaml");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-workers-"));

/** task/repeat -> reward of a rollouts file. */
function rewards(file: string): Record<string, number> {
  return Object.fromEntries(readJsonl(file).map((l) => [`${l._ng_task_index}/${l._ng_rollout_index}`, l.reward as number]));
}

describe("gym collect --workers", () => {
  it("writes the rollouts one mesh writes: each (task, repeat) once, the same rewards", async () => {
    const dir = tmp();
    const args = (workers: number, out: string) => [GYM, "collect", "-c", GRPO, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "8", "--workers", String(workers)];
    const one = await run(process.execPath, args(1, path.join(dir, "one.jsonl")));
    expect(one.code, one.stderr).toBe(0);
    const three = await run(process.execPath, args(3, path.join(dir, "three.jsonl")));
    expect(three.code, three.stderr).toBe(0);
    expect(three.stdout).toMatch(/^40 rollouts, mean reward [\d.]+, 0 failed/m);
    expect(readJsonl(path.join(dir, "three.jsonl"))).toHaveLength(40);
    // grpo.yaml's mock draws skips and wrong answers from each row's seed: the rewards vary by task, not by worker.
    const want = rewards(path.join(dir, "one.jsonl"));
    expect(new Set(Object.values(want))).toEqual(new Set([0, 1]));
    expect(rewards(path.join(dir, "three.jsonl"))).toEqual(want);
  });

  it("is refused with --url (the mesh runs elsewhere)", async () => {
    const res = await run(process.execPath, [GYM, "collect", "--url", "http://127.0.0.1:1", "--workers", "2", "-i", EXAMPLE_DATA, "-o", path.join(tmp(), "o.jsonl")]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--workers");
  });
});

describe("mesh workers", () => {
  let pool: MeshWorkers | undefined;
  afterAll(async () => pool?.close());

  it("spread the rollouts over every worker, and each rollout's session stays on its worker", async () => {
    pool = await startMeshWorkers(path.join(ROOT, "config/default.yaml"), 2, { logLevel: "warn" });
    const out = path.join(tmp(), "rollouts.jsonl");
    const summary = await collectFile({
      client: pool,
      agent: "example_single_tool_call_simple_agent",
      input: EXAMPLE_DATA,
      output: out,
      numRepeats: 20,
      concurrency: 16,
    });
    expect(summary).toMatchObject({ rollouts: 100, failures: 0, meanReward: 1 });
    const answered = pool.answered();
    expect(answered.reduce((a, b) => a + b, 0)).toBe(100);
    for (const n of answered) expect(n).toBeGreaterThan(10);
  });
});
