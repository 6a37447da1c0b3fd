// NeMo Gym's agent kinds, each driving a real mesh (mock model) of
// config/environments.yaml.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { clientFor } from "../mesh/clients.js";
import { loadConfig } from "../app/config.js";
import { ConfigError } from "../mesh/errors.js";
import { taskFromJson, verdictFields } from "../openai/responses-json.js";
import { startMesh, type RunningMesh } from "../app/start.js";
import { ENVIRONMENTS_CONFIG } from "../../testing/environment-mesh.js";
import { setQuiet } from "../mesh/log.js";

const row = JSON.parse(
  fs.readFileSync(new URL("../environments/example_single_tool_call/data/example.jsonl", import.meta.url), "utf8").split("\n")[0]!,
);
let mesh: RunningMesh;

beforeAll(async () => {
  setQuiet(true);
  const config = loadConfig(ENVIRONMENTS_CONFIG, {});
  config.instances.weather_skipping_agent = {
    kind: "agent",
    agent: "tool_simulation_agent",
    model: "policy_model",
    resources: "example_single_tool_call",
    max_steps: 10,
    skip_verification: true,
    skip_verification_reward: 0.5,
  };
  const keep = ["mock_openai", "policy_model", "example_single_tool_call", "example_single_tool_call_simple_agent",
    "example_single_tool_call_non_executing_agent", "example_single_tool_call_tool_simulation_agent", "weather_skipping_agent"];
  mesh = await startMesh({ instances: Object.fromEntries(keep.map((k) => [k, config.instances[k]!])) });
});
afterAll(async () => {
  await mesh?.close();
});

const run = (agent: string) => clientFor(AgentService, mesh.url(agent)).run({ input: { case: "task", value: taskFromJson(row) } });

describe("agent kinds", () => {
  it("simple_agent runs the tool call and feeds its output back before the answer", async () => {
    const { rollout } = await run("example_single_tool_call_simple_agent");
    expect(rollout!.response!.output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(rollout!.steps).toBe(2);
    expect(rollout!.verdict!.reward).toBe(1);
  });

  it("non_executing_simple_agent calls the model once and verifies the tool call as is", async () => {
    const { rollout } = await run("example_single_tool_call_non_executing_agent");
    expect(rollout!.response!.output.map((i) => i.kind.case)).toEqual(["functionCall"]);
    expect(rollout!.steps).toBe(1);
    expect(rollout!.verdict!.reward).toBe(1);
  });

  it("tool_simulation_agent verifies the calls of one model turn, or skips the verifier when configured", async () => {
    const { rollout } = await run("example_single_tool_call_tool_simulation_agent");
    expect(rollout!.response!.output.map((i) => i.kind.case)).toEqual(["functionCall"]);
    expect(rollout!.verdict!.reward).toBe(1);
    const skipped = await run("weather_skipping_agent");
    expect(skipped.rollout!.verdict!.reward).toBe(0.5);
    expect(verdictFields(skipped.rollout!.verdict)).toMatchObject({ verification_skipped: true });
  });

  it("a gymnasium_agent needs a multi-turn environment, and the others one with a verifier (checked when the config loads)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-agents-"));
    const wrong = (agent: "gymnasium_agent" | "simple_agent", resources: string) => {
      const file = path.join(dir, `${agent}.yaml`);
      const instances = {
        mock_openai: { kind: "mock_model" },
        policy_model: { kind: "model", base_url: "mock_openai", model: "mock" },
        [resources]: { kind: "resources", environment: resources },
        bad_agent: { kind: "agent", agent, model: "policy_model", resources },
      };
      fs.writeFileSync(file, stringify({ instances }));
      return () => loadConfig(file, {});
    };
    try {
      expect(wrong("gymnasium_agent", "example_multi_turn_gymnasium")).not.toThrow();
      expect(wrong("gymnasium_agent", "example_single_tool_call")).toThrow(ConfigError);
      expect(wrong("simple_agent", "example_multi_turn_gymnasium")).toThrow(/bad_agent\.agent: simple_agent cannot drive .*use gymnasium_agent/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
