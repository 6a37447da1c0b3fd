// Reward parity with NeMo Gym: the stored rollouts of every built-in
// environment, recomputed without a model, give the stored rewards, except
// the stale rows named here (collected with an older verifier; the current
// NeMo Gym code gives what we give).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { environments } from "../environments/index.js";
import { reverifyFile } from "./reverify.js";
import { run } from "../../testing/helpers.js";

const ENVS = fileURLToPath(new URL("../environments/", import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "reverify-"));

/** line -> the reward the current NeMo Gym verifier gives, where the stored one is stale. */
const STALE: Record<string, Record<number, number>> = {
  // Two answers without a tool call, rewarded 1.0 by an older verifier that always returned 1.0.
  example_single_tool_call: { 1: 0, 2: 0 },
  // `\boxed{\nC: ...}`: the current code extracts C and scores 1.0 (stored 0.0).
  mcqa: { 3: 1 },
};

/**
 * Rollouts collected on tasks the project does not ship: their lines lack the
 * row fields the verifier reads (here, the JSON schema), so none can be
 * recomputed; each is reported with the missing field.
 */
const UNVERIFIABLE: Record<string, string> = {
  structured_outputs: "schema_str",
  workplace_assistant: "ground_truth",
};

const withRollouts = Object.keys(environments).filter((name) => fs.existsSync(path.join(ENVS, name, "data", "example_rollouts.jsonl")));

describe("gym reverify", () => {
  it("covers the environments that ship stored rollouts", () => {
    expect(withRollouts).toEqual(expect.arrayContaining(["example_single_tool_call", "example_multi_step"]));
  });

  for (const name of withRollouts) {
    it(`${name}: every stored reward matches but the stale rows`, async () => {
      const input = path.join(ENVS, name, "data", "example_rollouts.jsonl");
      const output = path.join(tmp, `${name}.jsonl`);
      const summary = await reverifyFile({ input, output });
      if (UNVERIFIABLE[name]) {
        expect(summary.matched).toBe(0);
        expect(summary.differing).toHaveLength(summary.rows);
        for (const row of summary.differing) expect(row.error).toMatchObject({ code: "invalid_argument", message: expect.stringContaining(UNVERIFIABLE[name]) });
        return;
      }
      const stale = STALE[name] ?? {};
      expect(summary.env).toBe(name);
      expect(summary.differing.map((r) => r.error ?? [r.line, r.reward])).toEqual(Object.entries(stale).map(([line, reward]) => [Number(line), reward]));
      expect(summary.matched).toBe(summary.rows - Object.keys(stale).length);
      // The output holds every row with its recomputed reward.
      const rewards = fs.readFileSync(output, "utf8").trim().split("\n").map((l) => JSON.parse(l).reward);
      expect(rewards).toHaveLength(summary.rows);
    });
  }

  it("prints the count and the rows that differ, and exits 1 when any do", async () => {
    const output = path.join(tmp, "cli.jsonl");
    const input = "services/environments/example_single_tool_call/data/example_rollouts.jsonl";
    const result = await run("node", ["bin/gym.js", "reverify", "--input", input, "--output", output]);
    expect(result.stdout).toContain("3/5 rewards match the stored ones (example_single_tool_call)");
    expect(result.stdout).toMatch(/line 1: stored 1, recomputed 0\n\s+line 2: stored 1, recomputed 0/);
    expect(result.code).toBe(1);
  });

  it("takes the verifier's row fields from the task file when the rollout lines lack them", async () => {
    const input = path.join(ENVS, "example_multi_step", "data", "example_rollouts.jsonl");
    const alone = path.join(tmp, "alone.jsonl");
    fs.writeFileSync(alone, "{}\n"); // a task file with no matching rows
    const summary = await reverifyFile({ input, output: path.join(tmp, "ms.jsonl"), tasks: alone });
    expect(summary.matched).toBe(0);
    expect(summary.differing[0]!.error).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("task.id") });
  });

  it("reports unreadable lines by number and goes on", async () => {
    const input = path.join(tmp, "broken.jsonl");
    const good = fs.readFileSync(path.join(ENVS, "example_single_tool_call", "data", "example_rollouts.jsonl"), "utf8").split("\n")[3]!;
    fs.writeFileSync(input, `${good}\n{not json\n{"reward": 1}\n`);
    const summary = await reverifyFile({ input, output: path.join(tmp, "broken-out.jsonl"), env: "example_single_tool_call" });
    expect(summary.matched).toBe(1);
    expect(summary.differing.map((r) => [r.line, r.error?.code])).toEqual([
      [2, "invalid_argument"],
      [3, "invalid_argument"],
    ]);
  });
});

describe("gym reverify on rollouts of the mesh", () => {
  // Rollouts collected here (mock model), then recomputed from the stored lines alone.
  async function collect(envName: string, agentName: string, rows: object[]) {
    const { startEnvironmentMesh } = await import("../../testing/environment-mesh.js");
    const { responseToJson, taskFromJson } = await import("../openai/responses-json.js");
    const env = await startEnvironmentMesh(envName);
    try {
      const lines = [];
      for (const row of rows) {
        const { rollout } = await env.agent(agentName).run({ input: { case: "task", value: taskFromJson(row) } });
        lines.push(JSON.stringify({ ...row, response: responseToJson(rollout!.response!), reward: rollout!.verdict!.reward }));
      }
      const input = path.join(tmp, `${envName}-collected.jsonl`);
      fs.writeFileSync(input, lines.join("\n") + "\n");
      return input;
    } finally {
      await env.close();
    }
  }
  const dataset = (name: string) =>
    fs.readFileSync(path.join(ENVS, name, "data", "example.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

  it("replays a stateful rollout's tool calls in a fresh session", async () => {
    // The mock model adds 1 to the counter: half the rows expect that, half do not.
    const rows = dataset("example_session_state_mgmt").map((r, i) => ({ ...r, expected_count: r.initial_count + (i % 2 ? 1 : 0) }));
    const input = await collect("example_session_state_mgmt", "example_session_state_mgmt_simple_agent", rows);
    const stored = fs.readFileSync(input, "utf8").trim().split("\n").map((l) => JSON.parse(l).reward);
    expect(stored).toEqual([0, 1, 0, 1, 0]);
    const summary = await reverifyFile({ input, output: path.join(tmp, "ss-out.jsonl"), env: "example_session_state_mgmt" });
    expect(summary).toMatchObject({ rows: 5, matched: 5, differing: [] });
  });

  it("replays a multi-turn rollout turn by turn", async () => {
    const rows = dataset("example_multi_turn_gymnasium").map((r, i) => ({ ...r, expected_answer: i % 2 ? "mock model" : r.expected_answer }));
    const input = await collect("example_multi_turn_gymnasium", "example_multi_turn_gymnasium_agent", rows);
    const stored = fs.readFileSync(input, "utf8").trim().split("\n").map((l) => JSON.parse(l).reward);
    expect(stored).toEqual([0, 1, 0, 1, 0]);
    const summary = await reverifyFile({ input, output: path.join(tmp, "mt-out.jsonl") });
    expect(summary).toMatchObject({ env: "example_multi_turn_gymnasium", rows: 5, matched: 5, differing: [] });
  });
});
