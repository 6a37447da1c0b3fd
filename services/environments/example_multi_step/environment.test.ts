import * as fs from "node:fs";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { localClient } from "../../mesh/local-transport.js";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { responseFromJson } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import { environmentSettings } from "../../resources/environment.js";
import { hostClient } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import exampleMultiStep from "./environment.js";

const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const resources = hostClient(exampleMultiStep);

async function call(name: string, args: string) {
  const { sessionId } = await resources.seedSession({ task: taskFromJson(rows[0]) });
  return (await resources.callTool({ sessionId, name, arguments: args })).output;
}

describe("example_multi_step tools", () => {
  it("offer the schemas the dataset rows carry", async () => {
    const { tools } = await resources.listTools({});
    const offered = rows[0].responses_create_params.tools;
    expect(tools.map((t) => t.name)).toEqual(offered.map((t: { name: string }) => t.name));
    for (const [i, t] of tools.entries()) {
      expect(t.description).toBe(offered[i].description);
      expect(JSON.parse(t.parametersJson)).toEqual(offered[i].parameters);
    }
  });

  it("value a synonym as the sum of its code points, as NeMo Gym's sum(map(ord, s))", async () => {
    expect(await call("get_synonym_value", '{"synonym": "Arid"}')).toBe('{"synonym_value": 384}');
    expect(await call("get_synonym_value", '{"synonym": "Blazing"}')).toBe('{"synonym_value": 711}');
    // One astral character is one code point (128512), not two UTF-16 units.
    expect(await call("get_synonym_value", '{"synonym": "😀"}')).toBe('{"synonym_value": 128512}');
    expect(await call("extract_synonym_values", '{"synonym_values": [384, 279]}')).toBe('{"success": true}');
  });

  it("reject bad arguments with the field and the reason", async () => {
    await expect(call("get_synonym_value", "{}")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("synonym") });
    await expect(call("get_synonym_value", '{"synonym": 5}')).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(call("extract_synonym_values", '{"synonym_values": "not-a-list"}')).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("synonym_values"),
    });
    await expect(call("extract_synonym_values", '{"synonym_values": [1, "x"]}')).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("synonym_values.1"),
    });
  });
});

describe("example_multi_step's MCP tool names (NeMo Gym 0.7.0's expose_tools_over_mcp)", () => {
  const response = (name: string) =>
    responseFromJson({
      id: "r",
      output: [{ type: "function_call", id: "fc_1", call_id: "c1", name, arguments: '{"synonym_values": [711, 407]}', status: "completed" }],
    });
  const rewardWith = async (settings: unknown, name: string) => {
    const client = localClient(ResourcesService, createResourcesService(exampleMultiStep, { settings }));
    const { verdict } = await client.verify({ task: taskFromJson(rows[0]), response: response(name) });
    return verdict!.reward;
  };
  const NS = "mcp__example_multi_step_resources_server__extract_synonym_values";

  it("compares names as they are by default (not exposed over MCP)", async () => {
    expect(environmentSettings(exampleMultiStep, {})).toEqual({ expose_tools_over_mcp: false, server_name: "example_multi_step_resources_server" });
    expect(await rewardWith({}, "extract_synonym_values")).toBe(1);
    expect(await rewardWith({}, NS)).toBe(0);
    expect(await rewardWith({}, "mcp__example_multi_step__extract_synonym_values")).toBe(0);
  });

  it("strips only the server's own mcp__<server_name>__ namespace when exposed (0.7.0 gives 1.0, 0.0, 1.0 here)", async () => {
    const exposed = { expose_tools_over_mcp: true };
    expect(await rewardWith(exposed, NS)).toBe(1);
    expect(await rewardWith(exposed, "mcp__example_multi_step__extract_synonym_values")).toBe(0);
    expect(await rewardWith(exposed, "extract_synonym_values")).toBe(1);
    expect(await rewardWith({ ...exposed, server_name: "example_multi_step" }, "mcp__example_multi_step__extract_synonym_values")).toBe(1);
    expect(await rewardWith({ ...exposed, server_name: "example_multi_step" }, NS)).toBe(0);
  });

  it("refuses unknown settings", () => {
    expect(() => environmentSettings(exampleMultiStep, { expose_tools: true })).toThrow();
  });
});

describe("example_multi_step through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    env = await startEnvironmentMesh("example_multi_step");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model calls the first offered tool once, then answers; offered
  // extract_synonym_values first, it reports an empty list.
  it("runs a rollout and scores the values the model reported", async () => {
    const agent = env.agent("example_multi_step_simple_agent");
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    const output = rollout!.response!.output;
    expect(output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(output[1]!.kind.value).toMatchObject({ output: '{"synonym_value": 1577}' }); // sum(map(ord, "example synonym"))
    expect(rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(rollout!.verdict)).toMatchObject({ parsed_synonym_values: [], accuracy: false, set_overlap: 0 });

    const extractFirst = structuredClone(rows[0]);
    extractFirst.responses_create_params.tools.reverse();
    const second = await agent.run({ input: { case: "task", value: taskFromJson(extractFirst) } });
    expect(second.rollout!.response!.output[0]!.kind.value).toMatchObject({ name: "extract_synonym_values" });
    expect(second.rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(second.rollout!.verdict)).toMatchObject({ parsed_synonym_values: [], set_overlap: 0 });
  });
});
