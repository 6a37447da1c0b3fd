// Token ids for RL across a whole rollout: a mesh whose model instance is
// configured for training (Chat Completions backend, return_token_ids) keeps
// the token data of every step of a multi-step rollout.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { clientFor } from "../mesh/clients.js";
import { loadConfig } from "../app/config.js";
import { setQuiet } from "../mesh/log.js";
import { responseToJson, taskFromJson } from "../openai/responses-json.js";
import { startMesh, type RunningMesh } from "../app/start.js";
import { mockLogprob } from "../mock-model/chat.js";

setQuiet(true);

const CONFIG = `
instances:
  vllm:
    kind: mock_model
  policy:
    kind: model
    base_url: vllm
    model: mock
    api: chat_completions
    return_token_ids: true
  weather:
    kind: resources
    environment: example_single_tool_call
  agent:
    kind: agent
    model: policy
    resources: weather
`;

let mesh: RunningMesh;
beforeAll(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gym-tokens-")), "mesh.yaml");
  fs.writeFileSync(file, CONFIG);
  mesh = await startMesh(loadConfig(file, {}));
});
afterAll(async () => {
  await mesh?.close();
});

describe("a training rollout", () => {
  it("keeps the prompt ids, generated ids and logprobs of every step", async () => {
    const agent = clientFor(AgentService, mesh.url("agent"));
    const row = {
      responses_create_params: {
        input: [{ role: "user", content: "what's it like in sf?" }],
        tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
      },
    };
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(row) } });
    const output = responseToJson(rollout!.response!).output as JsonObject[];
    expect(output.map((o) => o.type)).toEqual(["function_call", "function_call_output", "message"]);
    const [call, , answer] = output as [JsonObject, JsonObject, JsonObject];

    const decode = (ids: unknown) => Buffer.from(ids as number[]).toString("utf8");
    // Step 1 generated the call, step 2 the answer; each step's prompt is the conversation so far.
    expect(decode(call.generation_token_ids)).toBe(`get_weather${String(call.arguments)}`);
    const answerText = ((answer.content as JsonObject[])[0] as JsonObject).text;
    expect(decode(answer.generation_token_ids)).toBe(answerText);
    expect(decode(call.prompt_token_ids)).toContain("what's it like in sf?");
    expect(decode(answer.prompt_token_ids)).toContain(String(call.call_id));
    expect(decode(answer.prompt_token_ids)).toContain("The weather in San Francisco is cold.");
    expect((answer.prompt_token_ids as number[]).length).toBeGreaterThan((call.prompt_token_ids as number[]).length);
    for (const item of [call, answer]) {
      const ids = item.generation_token_ids as number[];
      expect(item.generation_log_probs).toEqual(ids.map((id, i) => mockLogprob(id, i)));
    }
  });
});
