import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { localClient } from "../../mesh/local-transport.js";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { responseFromJson, taskFromJson } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import exampleSingleToolCall from "./environment.js";
import * as fs from "node:fs";

// The ResourcesService host with this environment, called through an in-memory transport.
const resources = localClient(ResourcesService, createResourcesService(exampleSingleToolCall));
const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));

async function seed() {
  return (await resources.seedSession({ task: taskFromJson(rows[0]) })).sessionId;
}

describe("example_single_tool_call", () => {
  it("offers get_weather with the JSON schema of its arguments", async () => {
    const { tools } = await resources.listTools({});
    expect(tools.map((t) => t.name)).toEqual(["get_weather"]);
    expect(JSON.parse(tools[0]!.parametersJson)).toMatchObject({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    });
  });

  it("answers get_weather as NeMo Gym does, byte for byte", async () => {
    const { output } = await resources.callTool({ sessionId: await seed(), name: "get_weather", arguments: '{"city": "sf"}' });
    expect(output).toBe('{"city": "sf", "weather_description": "The weather in sf is cold."}');
  });

  it("rejects an unknown tool, malformed JSON and arguments that miss the schema", async () => {
    const sessionId = await seed();
    const call = (name: string, args: string) => resources.callTool({ sessionId, name, arguments: args });
    await expect(call("get_time", "{}")).rejects.toMatchObject({ code: Code.NotFound, rawMessage: expect.stringContaining('unknown tool "get_time"') });
    await expect(call("get_weather", "{city:")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("not valid JSON") });
    await expect(call("get_weather", "{}")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("city") });
    await expect(call("get_weather", '{"city": 3}')).rejects.toBeInstanceOf(ConnectError);
    await expect(resources.callTool({ sessionId: "nope", name: "get_weather", arguments: "{}" })).rejects.toMatchObject({ code: Code.Aborted });
  });

  it("rewards a response that called get_weather, and only that", async () => {
    const rollouts = fs
      .readFileSync(new URL("./data/example_rollouts.jsonl", import.meta.url), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const row of rollouts) {
      const response = responseFromJson(row.response);
      const called = row.response.output.some((o: { type: string; name?: string }) => o.type === "function_call" && o.name === "get_weather");
      const { verdict } = await resources.verify({ task: taskFromJson(row), response });
      expect(verdict?.reward).toBe(called ? 1 : 0);
    }
    const empty = create((await import("../../../gen/gymmesh/v1/responses_pb.js")).ResponseSchema, {});
    expect((await resources.verify({ response: empty })).verdict?.reward).toBe(0);
  });
});

describe("example_single_tool_call through the mesh (mock model)", () => {
  it("runs a rollout end to end: get_weather, its output, the answer, reward 1", async () => {
    const { startEnvironmentMesh } = await import("../../../testing/environment-mesh.js");
    const env = await startEnvironmentMesh("example_single_tool_call");
    try {
      const { rollout } = await env.agent("example_single_tool_call_simple_agent").run({ input: { case: "task", value: taskFromJson(rows[2]) } });
      expect(rollout!.response!.output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
      expect(rollout!.verdict!.reward).toBe(1);
    } finally {
      await env.close();
    }
  });
});
