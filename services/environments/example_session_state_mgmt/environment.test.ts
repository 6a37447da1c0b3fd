import * as fs from "node:fs";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskFromJson } from "../../openai/responses-json.js";
import { hostClient } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import exampleSessionStateMgmt from "./environment.js";

const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const resources = hostClient(exampleSessionStateMgmt);
const seed = async (row = rows[0]) => (await resources.seedSession({ task: taskFromJson(row) })).sessionId;

describe("example_session_state_mgmt tools", () => {
  it("offer increment_counter(count: integer) and get_counter_value()", async () => {
    const { tools } = await resources.listTools({});
    expect(tools.map((t) => [t.name, JSON.parse(t.parametersJson)])).toEqual([
      ["increment_counter", { type: "object", properties: { count: { type: "integer" } }, required: ["count"], additionalProperties: false }],
      ["get_counter_value", { type: "object", properties: {}, additionalProperties: false }],
    ]);
  });

  it("start at the row's initial_count and add what increment_counter gets", async () => {
    const sessionId = await seed(); // initial_count 3
    const call = (name: string, args: string) => resources.callTool({ sessionId, name, arguments: args });
    expect((await call("get_counter_value", "{}")).output).toBe('{"count": 3}');
    expect((await call("increment_counter", '{"count": 4}')).output).toBe('{"success": true}');
    expect((await call("increment_counter", '{"count": "-2"}')).output).toBe('{"success": true}');
    expect((await call("get_counter_value", "")).output).toBe('{"count": 5}');
  });

  it("reject bad arguments with the reason and leave the counter alone", async () => {
    const sessionId = await seed();
    const call = (args: string) => resources.callTool({ sessionId, name: "increment_counter", arguments: args });
    await expect(call("{}")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("count") });
    await expect(call('{"count": 1.5}')).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/count: .*int/) });
    await expect(call('{"count": "many"}')).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(call("[1]")).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(call('{"count": ')).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("not valid JSON") });
    expect((await resources.callTool({ sessionId, name: "get_counter_value", arguments: "{}" })).output).toBe('{"count": 3}');
  });

  it("keep concurrent sessions apart", async () => {
    const sessions = await Promise.all(rows.map((row) => seed(row)));
    // Interleave increments of every session, all in flight at once.
    await Promise.all(
      [1, 2, 3].flatMap((n) => sessions.map((sessionId) => resources.callTool({ sessionId, name: "increment_counter", arguments: `{"count": ${n}}` }))),
    );
    const counts = await Promise.all(
      sessions.map(async (sessionId) => JSON.parse((await resources.callTool({ sessionId, name: "get_counter_value", arguments: "{}" })).output).count),
    );
    expect(counts).toEqual(rows.map((r) => r.initial_count + 6));
  });

  it("refuse to seed a session from a row without initial_count", async () => {
    const { initial_count: _drop, ...row } = rows[0];
    await expect(seed(row)).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("initial_count") });
  });
});

describe("example_session_state_mgmt through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    env = await startEnvironmentMesh("example_session_state_mgmt");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model calls the first offered tool (increment_counter) with count 1, then answers.
  it("scores the count the rollout left in its own session", async () => {
    const agent = env.agent("example_session_state_mgmt_simple_agent");
    const row = rows[1]; // initial_count 6
    const [hit, miss] = await Promise.all([
      agent.run({ input: { case: "task", value: taskFromJson({ ...row, expected_count: row.initial_count + 1 }) } }),
      agent.run({ input: { case: "task", value: taskFromJson(row) } }),
    ]);
    const output = hit.rollout!.response!.output;
    expect(output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(output[1]!.kind.value).toMatchObject({ output: '{"success": true}' });
    expect(hit.rollout!.verdict!.reward).toBe(1);
    expect(miss.rollout!.verdict!.reward).toBe(0);
  });
});
