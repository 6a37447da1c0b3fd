import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, loadConfig } from "./config.js";
import { ConfigError } from "../mesh/errors.js";

function writeConfig(text: string, envYaml?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-config-"));
  const file = path.join(dir, "mesh.yaml");
  fs.writeFileSync(file, text);
  if (envYaml !== undefined) fs.writeFileSync(path.join(dir, "env.yaml"), envYaml);
  return file;
}

const valid = `
instances:
  mock:
    kind: mock_model
  policy_model:
    kind: model
    base_url: \${POLICY_BASE_URL}
    api_key: \${POLICY_API_KEY}
    model: \${POLICY_MODEL_NAME:-gpt-test}
  env:
    kind: resources
    environment: example_single_tool_call
  env_agent:
    kind: agent
    model: policy_model
    resources: env
    max_steps: \${MAX_STEPS}
`;

describe("loadConfig", () => {
  it("loads the default config with the mock model", () => {
    const config = loadConfig(DEFAULT_CONFIG, {});
    expect(config.instances.policy_model).toMatchObject({ kind: "model", base_url: "mock_openai", model: "mock" });
    expect(config.instances.example_single_tool_call_simple_agent).toMatchObject({ kind: "agent", max_steps: 10 });
  });

  it("substitutes ${VAR} from the environment, with defaults, and keeps numbers numbers", () => {
    const file = writeConfig(valid);
    const config = loadConfig(file, { POLICY_BASE_URL: "http://vllm:8000/v1", POLICY_API_KEY: "sk-test", MAX_STEPS: "3" });
    expect(config.instances.policy_model).toMatchObject({ base_url: "http://vllm:8000/v1", api_key: "sk-test", model: "gpt-test" });
    expect(config.instances.env_agent).toMatchObject({ max_steps: 3 });
  });

  it("reads secrets from env.yaml beside the config; the environment wins", () => {
    const file = writeConfig(valid, "POLICY_BASE_URL: http://from-env-yaml/v1\nPOLICY_API_KEY: sk-yaml\nMAX_STEPS: 5\n");
    const config = loadConfig(file, { POLICY_API_KEY: "sk-env" });
    expect(config.instances.policy_model).toMatchObject({ base_url: "http://from-env-yaml/v1", api_key: "sk-env" });
    expect(config.instances.env_agent).toMatchObject({ max_steps: 5 });
  });

  it("names the file, the field and the variable when a variable is unset", () => {
    const file = writeConfig(valid);
    expect(() => loadConfig(file, { POLICY_BASE_URL: "http://x/v1", MAX_STEPS: "1" })).toThrow(
      `${file}: instances.policy_model.api_key: \${POLICY_API_KEY} is not set`,
    );
  });

  it("names the path of a bad field and why", () => {
    const file = writeConfig("instances:\n  a:\n    kind: agent\n    model: m\n    resources: r\n    max_steps: -1\n");
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    expect(() => loadConfig(file, {})).toThrow(/instances\.a\.max_steps: .*>=0/);
  });

  it("rejects unknown fields and kinds", () => {
    const typo = writeConfig("instances:\n  m:\n    kind: mock_model\n    prot: 8080\n");
    expect(() => loadConfig(typo, {})).toThrow(/instances\.m: .*prot/);
    const kind = writeConfig("instances:\n  m:\n    kind: teleporter\n");
    expect(() => loadConfig(kind, {})).toThrow(/instances\.m\.kind/);
  });

  it("checks that references name instances of the right kind", () => {
    const file = writeConfig(valid.replace("resources: env", "resources: policy_model"));
    expect(() => loadConfig(file, { POLICY_BASE_URL: "http://x/v1", POLICY_API_KEY: "k", MAX_STEPS: "1" })).toThrow(
      'instances.env_agent.resources: "policy_model" is not a resources or nemo_gym_resources instance',
    );
  });

  it("reports a missing file and bad YAML", () => {
    expect(() => loadConfig("/nonexistent/mesh.yaml", {})).toThrow(/\/nonexistent\/mesh.yaml: cannot read/);
    expect(() => loadConfig(writeConfig("instances: [\n"), {})).toThrow(/not valid YAML/);
  });
});

describe("addresses and grpc_port", () => {
  const mesh = `
instances:
  mock:
    kind: mock_model
  policy_model:
    kind: model
    base_url: mock
    model: m
    grpc_port: 9090
addresses:
  mock: MOCK_ADDRESS
`;

  it("accepts grpc:// addresses and a grpc_port on gRPC instances, not on the mock model", () => {
    const config = loadConfig(writeConfig(mesh.replace("MOCK_ADDRESS", "grpc://mock:9090")), {});
    expect(config.addresses?.mock).toBe("grpc://mock:9090");
    expect(config.instances.policy_model).toMatchObject({ grpc_port: 9090 });
    expect(() => loadConfig(writeConfig(mesh.replace("MOCK_ADDRESS", "ftp://mock")), {})).toThrow(/addresses\.mock.*http\(s\):\/\/ or grpc:\/\//);
    expect(() => loadConfig(writeConfig(mesh.replace("kind: mock_model", "kind: mock_model\n    grpc_port: 1")), {})).toThrow(/grpc_port/);
  });

  it("refuses a grpc:// address where an instance's HTTP API is needed", async () => {
    const { startMesh } = await import("./start.js");
    const config = loadConfig(writeConfig(mesh.replace("MOCK_ADDRESS", "grpc://127.0.0.1:1")), {});
    await expect(startMesh(config, { only: ["policy_model"] })).rejects.toThrow(/addresses\.mock: needs an http\(s\) URL here/);
  });
});

describe("environment settings", () => {
  const mesh = (settings: string) => `
instances:
  mock:
    kind: mock_model
  policy_model:
    kind: model
    base_url: mock
    model: m
  mcqa:
    kind: resources
    environment: mcqa
${settings}`;

  it("sets an environment's own settings per resources instance", () => {
    const config = loadConfig(writeConfig(mesh("    settings:\n      grading_mode: lenient_answer_colon_md\n")), {});
    expect(config.instances.mcqa).toMatchObject({ kind: "resources", settings: { grading_mode: "lenient_answer_colon_md" } });
    expect(loadConfig(writeConfig(mesh("")), {}).instances.mcqa).toMatchObject({ settings: {} });
  });

  it("checks them against the environment's schema, naming the field", () => {
    const bad = writeConfig(mesh("    settings:\n      grading_mode: fuzzy\n"));
    expect(() => loadConfig(bad, {})).toThrow(ConfigError);
    expect(() => loadConfig(bad, {})).toThrow(/instances\.mcqa\.settings\.grading_mode: .*lenient_boxed/);
    const unknown = writeConfig(mesh("    settings:\n      grading: strict\n"));
    expect(() => loadConfig(unknown, {})).toThrow(/instances\.mcqa\.settings: .*grading/);
  });

  it("refuses settings for an environment that has none, and an unknown environment", () => {
    const none = writeConfig(mesh("    settings:\n      x: 1\n").replace("environment: mcqa", "environment: example_single_tool_call"));
    expect(() => loadConfig(none, {})).toThrow(/instances\.mcqa\.settings: example_single_tool_call has no settings/);
    const unknown = writeConfig(mesh("").replace("environment: mcqa", "environment: atlantis"));
    expect(() => loadConfig(unknown, {})).toThrow(/instances\.mcqa\.environment: unknown environment "atlantis" \(built in: .*mcqa/);
  });

  it("reaches the verifier: the instance's grading mode overrides the row's", async () => {
    const { startMesh } = await import("./start.js");
    const { clientFor } = await import("../mesh/clients.js");
    const { ResourcesService } = await import("../../gen/gymmesh/v1/resources_pb.js");
    const { responseFromJson, taskFromJson } = await import("../openai/responses-json.js");
    const row = {
      responses_create_params: { input: "Q?" },
      options: [{ A: "a" }, { B: "b" }],
      expected_answer: "B",
      grading_mode: "strict_single_letter_boxed",
    };
    const response = responseFromJson({
      id: "r", created_at: 0, model: "m", object: "response", parallel_tool_calls: true, tool_choice: "auto", tools: [],
      output: [{ id: "m1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "**Answer: B**", annotations: [] }] }],
    });
    for (const [settings, reward] of [["", 0], ["    settings:\n      grading_mode: lenient_answer_colon_md\n", 1]] as const) {
      const running = await startMesh(loadConfig(writeConfig(mesh(settings)), {}), { only: ["mcqa"] });
      try {
        const { verdict } = await clientFor(ResourcesService, running.url("mcqa")).verify({ task: taskFromJson(row), response });
        expect(verdict?.reward).toBe(reward);
      } finally {
        await running.close();
      }
    }
  });
});

describe("durations", () => {
  it("are in seconds; an old _ms key names its new name", () => {
    const file = writeConfig("instances:\n  mock:\n    kind: mock_model\n  p:\n    kind: model\n    base_url: mock\n    model: m\n    timeout_ms: 600000\n");
    expect(() => loadConfig(file, {})).toThrow(/instances\.p\.timeout_ms: renamed to timeout_s: every duration in a config is in seconds/);
    const mock = writeConfig("instances:\n  mock:\n    kind: mock_model\n    latency_ms: 5\n");
    expect(() => loadConfig(mock, {})).toThrow(/instances\.mock\.latency_ms: renamed to latency_s/);
    const ok = loadConfig(writeConfig("instances:\n  mock:\n    kind: mock_model\n    latency_s: 0.25\n  p:\n    kind: model\n    base_url: mock\n    model: m\n    timeout_s: 1.5\n"), {});
    expect(ok.instances.p).toMatchObject({ timeout_s: 1.5, retry_base_s: 0.5 });
    expect(ok.instances.mock).toMatchObject({ latency_s: 0.25 });
  });
});

describe("POLICY_* knobs", () => {
  it.each(["default.yaml", "replay.yaml", "environments.yaml", "grpo.yaml"])("config/%s takes POLICY_TIMEOUT_S (seconds, default 600)", (name) => {
    const file = path.join(path.dirname(DEFAULT_CONFIG), name);
    expect(loadConfig(file, {}).instances.policy_model).toMatchObject({ timeout_s: 600 });
    expect(loadConfig(file, { POLICY_TIMEOUT_S: "2.5" }).instances.policy_model).toMatchObject({ timeout_s: 2.5 });
  });
});
