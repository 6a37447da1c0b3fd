// return_token_ids on both APIs: a model instance with api: responses asks
// the mock for token ids too, every turn of a rollout keeps them, and each
// turn's prompt starts with the previous turn's prompt and generated ids.
// A real backend's Responses API has none: refused when the config loads.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { loadConfig } from "../app/config.js";
import { startMesh, type RunningMesh } from "../app/start.js";
import { clientFor } from "../mesh/clients.js";
import { ConfigError } from "../mesh/errors.js";
import { setQuiet } from "../mesh/log.js";
import { mockLogprob } from "../mock-model/tokens.js";
import { responseToJson, taskFromJson } from "../openai/responses-json.js";

setQuiet(true);

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-token-apis-"));

// One policy per API and mock (plain, or with reasoning and two tool turns), each with an agent.
const POLICIES = ["chat", "responses", "chat_thinking", "responses_thinking"] as const;
const CONFIG = `
instances:
  vllm:
    kind: mock_model
  thinking:
    kind: mock_model
    reasoning: reasoning_content
    tool_turns: 2
${POLICIES.map(
  (p) => `  ${p}:
    kind: model
    base_url: ${p.endsWith("thinking") ? "thinking" : "vllm"}
    model: mock
    api: ${p.startsWith("chat") ? "chat_completions" : "responses"}
    return_token_ids: true
  ${p}_agent:
    kind: agent
    model: ${p}
    resources: weather
  ${p}_gymnasium_agent:
    kind: agent
    agent: gymnasium_agent
    model: ${p}
    resources: gymnasium`,
).join("\n")}
  no_tokens:
    kind: model
    base_url: vllm
    model: mock
    api: responses
    return_token_ids: true
    headers:
      x-mock-knobs: '{"token_ids": false}'
  weather:
    kind: resources
    environment: example_single_tool_call
  gymnasium:
    kind: resources
    environment: example_multi_turn_gymnasium
`;

const WEATHER_ROW = {
  responses_create_params: {
    input: [
      { role: "developer", content: "Be helpful." },
      { role: "user", content: "what's it like in sf?" },
    ],
    tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
  },
};
const GYMNASIUM_ROW = {
  responses_create_params: { input: [{ role: "user", content: "What is the capital of France?" }] },
  follow_ups: ["What is the approximate population of that city?", "Name one famous landmark there."],
  expected_answer: "Eiffel",
};

let mesh: RunningMesh;
beforeAll(async () => {
  const file = path.join(tmp(), "mesh.yaml");
  fs.writeFileSync(file, CONFIG);
  mesh = await startMesh(loadConfig(file, {}));
});
afterAll(async () => {
  await mesh?.close();
});

interface Turn {
  prompt: number[];
  generation: number[];
  logprobs: number[];
}

/** The rollout's output items and the token data of each model turn (the items that carry it). */
async function rollout(agent: string, row: JsonObject): Promise<{ output: JsonObject[]; turns: Turn[] }> {
  const { rollout } = await clientFor(AgentService, mesh.url(agent)).run({ input: { case: "task", value: taskFromJson(row) } });
  const output = responseToJson(rollout!.response!).output as JsonObject[];
  const turns = output
    .filter((o) => Array.isArray(o.generation_token_ids))
    .map((o) => ({ prompt: o.prompt_token_ids as number[], generation: o.generation_token_ids as number[], logprobs: o.generation_log_probs as number[] }));
  return { output, turns };
}

/** Each turn's prompt starts with the previous turn's prompt followed by its generated tokens. */
function expectPrefixes(turns: Turn[]): void {
  for (let i = 1; i < turns.length; i++) {
    const before = [...turns[i - 1]!.prompt, ...turns[i - 1]!.generation];
    expect(turns[i]!.prompt.length, `turn ${i}`).toBeGreaterThan(before.length);
    expect(turns[i]!.prompt.slice(0, before.length), `turn ${i}`).toEqual(before);
  }
  for (const t of turns) expect(t.logprobs).toEqual(t.generation.map((id, i) => mockLogprob(id, i)));
}

const decode = (ids: number[]) => Buffer.from(ids).toString("utf8");

describe("token ids on both APIs through the mesh", () => {
  it.each(POLICIES)("%s: a tool-calling rollout keeps every turn's tokens, each prompt extending the last", async (policy) => {
    const { output, turns } = await rollout(`${policy}_agent`, WEATHER_ROW);
    const thinking = policy.endsWith("thinking");
    // One turn per model call: a tool call (two with tool_turns: 2), then the answer.
    expect(turns.length).toBe(thinking ? 3 : 2);
    expect(output.filter((o) => o.type === "function_call_output").length).toBe(thinking ? 2 : 1);
    expectPrefixes(turns);
    const call = output.find((o) => o.type === "function_call")!;
    expect(decode(turns[0]!.generation)).toContain(`get_weather${String(call.arguments)}`);
    expect(decode(turns.at(-1)!.generation)).toContain("Here is what the tool said: ");
    expect(decode(turns.at(-1)!.prompt)).toContain("The weather in San Francisco is cold.");
    expect(decode(turns[0]!.prompt)).toContain("<|developer|>Be helpful.\n<|user|>what's it like in sf?\n<|assistant|>");
  });

  it.each(POLICIES)("%s: a multi-turn (gymnasium) rollout too", async (policy) => {
    const { turns } = await rollout(`${policy}_gymnasium_agent`, GYMNASIUM_ROW);
    expect(turns.length).toBe(3);
    expectPrefixes(turns);
    expect(decode(turns[2]!.prompt)).toContain("Name one famous landmark there.");
  });

  it("api: responses: CreateResponse and StreamResponse return TokenData on the turn's last item", async () => {
    const model = clientFor(ModelService, mesh.url("responses"));
    const params = taskFromJson(WEATHER_ROW).responsesCreateParams!;
    const { response } = await model.createResponse({ params });
    const last = response!.output.at(-1)!;
    expect(last.kind.case).toBe("functionCall");
    const tokens = last.kind.case === "functionCall" ? last.kind.value.tokens! : undefined;
    expect(decode([...tokens!.generationTokenIds])).toMatch(/^get_weather\{/);
    expect(tokens!.promptTokenIds.length).toBeGreaterThan(0);
    expect(tokens!.generationLogProbs).toEqual([...tokens!.generationTokenIds].map((id, i) => mockLogprob(id, i)));

    let completed: JsonObject | undefined;
    for await (const { event } of model.streamResponse({ params })) {
      if (event.case === "completed") completed = responseToJson(event.value);
    }
    const streamed = (completed!.output as JsonObject[]).at(-1)!;
    expect(streamed.prompt_token_ids).toEqual([...tokens!.promptTokenIds]);
    expect(streamed.generation_token_ids).toEqual([...tokens!.generationTokenIds]);
  });

  it("api: responses: a backend that answers without them fails with FAILED_PRECONDITION", async () => {
    const model = clientFor(ModelService, mesh.url("no_tokens"));
    const params = taskFromJson(WEATHER_ROW).responsesCreateParams!;
    await expect(model.createResponse({ params })).rejects.toMatchObject({ code: 9, rawMessage: expect.stringContaining("no_tokens: the backend returned no token ids") });
    await expect(async () => {
      for await (const _ of model.streamResponse({ params })) void _;
    }).rejects.toMatchObject({ code: 9 });
  });
});

describe("return_token_ids in the config", () => {
  const write = (policy: string) => {
    const file = path.join(tmp(), "mesh.yaml");
    fs.writeFileSync(file, `instances:\n  mock:\n    kind: mock_model\n  policy:\n    kind: model\n    model: m\n${policy}`);
    return file;
  };

  it("with api: responses is refused for a real backend, at load", () => {
    const file = write("    base_url: https://api.openai.com/v1\n    api: responses\n    return_token_ids: true\n");
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    expect(() => loadConfig(file, {})).toThrow(
      `${file}: instances.policy.return_token_ids: the Responses API does not return token ids; use api: chat_completions (vLLM), or name a mock_model instance as base_url`,
    );
    // api: responses is the default.
    expect(() => loadConfig(write("    base_url: http://x/v1\n    return_token_ids: true\n"), {})).toThrow(/instances\.policy\.return_token_ids: the Responses API/);
  });

  it("is allowed with chat_completions, or with a mock_model instance on either API", () => {
    expect(loadConfig(write("    base_url: http://vllm:8000/v1\n    api: chat_completions\n    return_token_ids: true\n"), {}).instances.policy).toMatchObject({ return_token_ids: true });
    expect(loadConfig(write("    base_url: mock\n    api: responses\n    return_token_ids: true\n"), {}).instances.policy).toMatchObject({ return_token_ids: true });
    expect(loadConfig(write("    base_url: http://x/v1\n    api: responses\n"), {}).instances.policy).toMatchObject({ return_token_ids: false });
  });

  it.each(["default.yaml", "replay.yaml", "environments.yaml"])("config/%s takes POLICY_RETURN_TOKEN_IDS (default false)", (name) => {
    const file = path.join(ROOT, "config", name);
    const policy = (env: NodeJS.ProcessEnv) => loadConfig(file, env).instances.policy_model;
    expect(policy({})).toMatchObject({ return_token_ids: false, api: "responses" });
    expect(policy({ POLICY_RETURN_TOKEN_IDS: "true" })).toMatchObject({ return_token_ids: true });
    expect(policy({ POLICY_RETURN_TOKEN_IDS: "false" })).toMatchObject({ return_token_ids: false });
    expect(policy({ POLICY_RETURN_TOKEN_IDS: "true", POLICY_BASE_URL: "http://vllm:8000/v1", POLICY_API: "chat_completions" })).toMatchObject({
      return_token_ids: true,
      api: "chat_completions",
    });
    // A real backend's Responses API cannot: refused at start.
    expect(() => policy({ POLICY_RETURN_TOKEN_IDS: "true", POLICY_BASE_URL: "https://api.openai.com/v1" })).toThrow(
      /instances\.policy_model\.return_token_ids: the Responses API does not return token ids/,
    );
    expect(() => policy({ POLICY_RETURN_TOKEN_IDS: "yes" })).toThrow(/instances\.policy_model\.return_token_ids/);
  });
});
