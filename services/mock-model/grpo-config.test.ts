// Offline GRPO: config/grpo.yaml (and config/default.yaml with the rates set)
// give mixed rewards within a group of repeats of one task, the same ones on
// a rerun, with token data whose prompts extend each other.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { DEFAULT_CONFIG, loadConfig } from "../app/config.js";
import { startMesh, type RunningMesh } from "../app/start.js";
import { collectFile } from "../collect/collector.js";
import { Progress } from "../collect/progress.js";
import { clientFor } from "../mesh/clients.js";
import { setQuiet } from "../mesh/log.js";
import { taskFromJson } from "../openai/responses-json.js";
import { EXAMPLE_DATA, readJsonl } from "../../testing/helpers.js";

setQuiet(true);

const GRPO_CONFIG = path.resolve(path.dirname(DEFAULT_CONFIG), "grpo.yaml");
const REPEATS = 8;
const AGENT = "example_single_tool_call_simple_agent";

/** Collects the example dataset, REPEATS repeats each seeded with its index (--num-repeats-add-seed). */
async function collect(mesh: RunningMesh, output: string): Promise<JsonObject[]> {
  await collectFile({
    client: clientFor(RolloutService, mesh.url("rollout")),
    agent: AGENT,
    input: EXAMPLE_DATA,
    output,
    numRepeats: REPEATS,
    numRepeatsAddSeed: true,
    fresh: true,
    progress: new Progress({ write: () => true, isTTY: false } as unknown as NodeJS.WriteStream),
  });
  return fs
    .readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as JsonObject);
}

/** reward by task index, then by repeat. */
function rewardsByGroup(lines: JsonObject[]): number[][] {
  const groups: number[][] = [];
  for (const l of lines) (groups[l._ng_task_index as number] ??= [])[l._ng_rollout_index as number] = l.reward as number;
  return groups;
}

describe("config/grpo.yaml", () => {
  let mesh: RunningMesh;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-grpo-"));
  beforeAll(async () => {
    mesh = await startMesh(loadConfig(GRPO_CONFIG, {}));
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it("gives every group of repeats mixed rewards (non-zero advantages), the same on a rerun", async () => {
    const lines = await collect(mesh, path.join(dir, "first.jsonl"));
    const groups = rewardsByGroup(lines);
    expect(groups.length).toBe(readJsonl(EXAMPLE_DATA).length);
    for (const [task, rewards] of groups.entries()) {
      expect(rewards.length, `task ${task}`).toBe(REPEATS);
      expect(new Set(rewards), `task ${task}: ${rewards.join(" ")}`).toEqual(new Set([0, 1]));
    }
    // Seeds and conversations, not the order of arrival, decide: a rerun is the same.
    const again = rewardsByGroup(await collect(mesh, path.join(dir, "again.jsonl")));
    expect(again).toEqual(groups);
    // The seed is what --num-repeats-add-seed put in metadata.extra_body.
    expect(lines.map((l) => JSON.parse(((l.responses_create_params as JsonObject).metadata as JsonObject).extra_body as string).seed).sort()).toEqual(
      lines.map((l) => l._ng_rollout_index).sort(),
    );
  });

  it("keeps token data on every turn, each prompt extending the previous turn's prompt and generation", async () => {
    const lines = await collect(mesh, path.join(dir, "tokens.jsonl"));
    let multiTurn = 0;
    for (const line of lines) {
      const turns = ((line.response as JsonObject).output as JsonObject[]).filter((o) => Array.isArray(o.generation_token_ids));
      expect(turns.length).toBeGreaterThan(0);
      if (turns.length > 1) multiTurn++;
      for (let i = 1; i < turns.length; i++) {
        const before = [...(turns[i - 1]!.prompt_token_ids as number[]), ...(turns[i - 1]!.generation_token_ids as number[])];
        expect((turns[i]!.prompt_token_ids as number[]).slice(0, before.length)).toEqual(before);
      }
    }
    expect(multiTurn).toBeGreaterThan(0);
  });
});

describe("config/default.yaml with the rates set", () => {
  let mesh: RunningMesh;
  beforeAll(async () => {
    const config = loadConfig(DEFAULT_CONFIG, {});
    const mock = config.instances.mock_openai;
    if (mock?.kind !== "mock_model") throw new Error("the default config has a mock_model instance mock_openai");
    mock.skip_tool_rate = 0.5;
    mesh = await startMesh(config);
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it("scores a group of seeded repeats of each task 0 and 1 (the verifier rewards calling get_weather)", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    for (const row of readJsonl(EXAMPLE_DATA)) {
      const params = row.responses_create_params as JsonObject;
      const run = async (seed: number) => {
        const seeded = { ...row, responses_create_params: { ...params, metadata: { extra_body: JSON.stringify({ seed }) } } };
        const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(seeded) } });
        const called = rollout!.response!.output.some((i) => i.kind.case === "functionCall");
        expect(rollout!.verdict!.reward).toBe(called ? 1 : 0);
        return rollout!.verdict!.reward;
      };
      const rewards = await Promise.all(Array.from({ length: REPEATS }, (_, seed) => run(seed)));
      expect(new Set(rewards)).toEqual(new Set([0, 1]));
      expect(await Promise.all(Array.from({ length: REPEATS }, (_, seed) => run(seed)))).toEqual(rewards);
    }
  });

  it("without a seed in the requests, repeats stay identical (the mock's seed knob)", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    const row = readJsonl(EXAMPLE_DATA)[0]!;
    const rewards = await Promise.all(Array.from({ length: 4 }, async () => (await agent.run({ input: { case: "task", value: taskFromJson(row) } })).rollout!.verdict!.reward));
    expect(new Set(rewards).size).toBe(1);
  });
});
