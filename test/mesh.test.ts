// The whole mesh on real ports: rollouts through the agent and rollout
// services, over gRPC, Connect on HTTP/1.1, and buf curl with reflection.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { CollectRequestSchema, RolloutService, type CollectResponse } from "../gen/gymmesh/v1/rollout_pb.js";
import { ResourcesService } from "../gen/gymmesh/v1/resources_pb.js";
import type { Item } from "../gen/gymmesh/v1/responses_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import type { RunningMesh } from "../services/app/start.js";
import { BUF, EXAMPLE_DATA, readJsonl, run, startDefaultMesh } from "../testing/helpers.js";

let mesh: RunningMesh;
const rows = readJsonl(EXAMPLE_DATA);
const AGENT = "example_single_tool_call_simple_agent";

beforeAll(async () => {
  mesh = await startDefaultMesh();
});
afterAll(async () => {
  await mesh?.close();
});

const kinds = (items: Item[]) => items.map((i) => i.kind.case);

/** A task row whose offered tool differs from the environment's, so the mock model calls it wrongly. */
function rowWithTool(name: string, cityType: string) {
  const row = structuredClone(rows[0]!) as { responses_create_params: { tools: { name: string; parameters: { properties: { city: { type: string } } } }[] } };
  row.responses_create_params.tools[0]!.name = name;
  row.responses_create_params.tools[0]!.parameters.properties.city.type = cityType;
  return taskFromJson(row);
}

describe("AgentService", () => {
  it("runs one rollout: tool call, tool output, answer, reward 1", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(rows[0]) }, rolloutId: "r-1" });
    expect(rollout?.rolloutId).toBe("r-1");
    expect(rollout?.verdict?.reward).toBe(1);
    expect(rollout?.steps).toBe(2);
    const output = rollout!.response!.output;
    expect(kinds(output)).toEqual(["functionCall", "functionCallOutput", "message"]);
    const [call, result] = output;
    expect(call!.kind.case === "functionCall" && call!.kind.value.name).toBe("get_weather");
    expect(result!.kind.case === "functionCallOutput" && result!.kind.value.output).toBe(
      '{"city": "San Francisco", "weather_description": "The weather in San Francisco is cold."}',
    );
    expect(durationMs(rollout!.timings!.total!)).toBeGreaterThan(0);
    expect(rollout!.response!.usage!.totalTokens).toBeGreaterThan(0);
  });

  it("streams each item as it happens, then the rollout", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    const events = [];
    for await (const event of agent.runStream({ input: { case: "task", value: taskFromJson(rows[1]) } })) events.push(event.event);
    expect(events.map((e) => e.case)).toEqual(["item", "item", "item", "rollout"]);
    const rollout = events.at(-1)!.value as { verdict: { reward: number }; response: { output: Item[] } };
    expect(rollout.verdict.reward).toBe(1);
    expect(events.slice(0, 3).map((e) => e.value)).toEqual(rollout.response.output);
  });

  it("feeds an unknown tool's error back to the model and scores the rollout", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    const { rollout } = await agent.run({ input: { case: "task", value: rowWithTool("get_time", "string") } });
    const out = rollout!.response!.output[1]!;
    expect(out.kind.case).toBe("functionCallOutput");
    expect(out.kind.case === "functionCallOutput" && JSON.parse(out.kind.value.output).error).toMatch(/unknown tool "get_time"/);
    expect(rollout!.verdict!.reward).toBe(0);
  });

  it("feeds malformed tool arguments back to the model", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    const { rollout } = await agent.run({ input: { case: "task", value: rowWithTool("get_weather", "integer") } });
    const out = rollout!.response!.output[1]!;
    expect(out.kind.case === "functionCallOutput" && JSON.parse(out.kind.value.output).error).toMatch(/tool get_weather: city: .*string/);
  });

  it("rejects a task without responses_create_params with INVALID_ARGUMENT", async () => {
    const agent = clientFor(AgentService, mesh.url(AGENT));
    await expect(agent.run({ input: { case: "task", value: { extraJson: JSON.stringify({ expected_answer: "C" }) } } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("responses_create_params"),
    });
  });
});

describe("RolloutService.Collect", () => {
  it("runs repeats of every task and returns each result as it finishes", async () => {
    const rollout = clientFor(RolloutService, mesh.url("rollout"));
    async function* tasks() {
      for (const [i, row] of rows.entries()) yield create(CollectRequestSchema, { taskId: `t${i}`, input: { case: "task", value: taskFromJson(row) }, numRepeats: 3 });
    }
    const results: CollectResponse[] = [];
    for await (const r of rollout.collect(tasks())) results.push(r);
    expect(results).toHaveLength(rows.length * 3);
    for (const [i] of rows.entries()) {
      const mine = results.filter((r) => r.taskId === `t${i}`);
      expect(mine.map((r) => r.repeatIndex).sort()).toEqual([0, 1, 2]);
    }
    expect(results.every((r) => r.outcome.case === "rollout" && r.outcome.value.verdict?.reward === 1)).toBe(true);
    expect(new Set(results.map((r) => r.agent))).toEqual(new Set([AGENT]));
  });

  it("returns a failed rollout as an error result and goes on with the others", async () => {
    const rollout = clientFor(RolloutService, mesh.url("rollout"));
    async function* tasks() {
      yield create(CollectRequestSchema, { taskId: "bad-agent", input: { case: "task", value: taskFromJson(rows[0]) }, agent: "no_such_agent" });
      yield create(CollectRequestSchema, { taskId: "no-params", input: { case: "task", value: { extraJson: "{}" } } });
      yield create(CollectRequestSchema, { taskId: "good", input: { case: "task", value: taskFromJson(rows[0]) } });
    }
    const byId = new Map<string, CollectResponse>();
    for await (const r of rollout.collect(tasks())) byId.set(r.taskId, r);
    expect(byId.get("bad-agent")!.outcome).toMatchObject({ case: "error", value: { code: Code.NotFound } });
    expect(byId.get("bad-agent")!.outcome.value).toMatchObject({ message: expect.stringContaining('unknown agent "no_such_agent"') });
    expect(byId.get("no-params")!.outcome).toMatchObject({ case: "error", value: { code: Code.InvalidArgument } });
    expect(byId.get("good")!.outcome.case).toBe("rollout");
  });
});

describe("one port, every protocol", () => {
  it("serves Connect JSON over HTTP/1.1 and gRPC-Web on the gRPC port", async () => {
    const url = mesh.url("example_single_tool_call");
    const res = await fetch(`${url}/gymmesh.v1.ResourcesService/ListTools`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect((await res.json()).tools[0].name).toBe("get_weather");
    const web = createClient(ResourcesService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }));
    expect((await web.listTools({})).tools).toHaveLength(1);
    const connectH2 = createClient(ResourcesService, createConnectTransport({ baseUrl: url, httpVersion: "2" }));
    expect((await connectH2.listTools({})).tools).toHaveLength(1);
  });

  it("answers buf curl by reflection: lists the services and runs a rollout from JSON", async () => {
    const url = mesh.url(AGENT);
    const list = await run(BUF, ["curl", "--list-methods", "--http2-prior-knowledge", url]);
    expect(list.stdout).toContain("gymmesh.v1.AgentService/Run");
    expect(list.stdout).toContain("grpc.health.v1.Health/Check");

    const parameters = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const body = JSON.stringify({ task: { responsesCreateParams: { inputText: "weather in sf?", tools: [{ function: { name: "get_weather", parametersJson: JSON.stringify(parameters) } }] } } });
    const call = await run(BUF, ["curl", "--http2-prior-knowledge", "--protocol", "grpc", "-d", body, `${url}/gymmesh.v1.AgentService/Run`]);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).rollout.verdict.reward).toBe(1);

    // A NeMo Gym row as it is in, its NeMo Gym output line out: no converter on the client.
    const row = { responses_create_params: { input: "weather in sf?", tools: [{ type: "function", name: "get_weather", parameters }] }, expected: "cold" };
    const raw = JSON.stringify({ rowJson: JSON.stringify(row), wantOutputLine: true });
    const rawCall = await run(BUF, ["curl", "--http2-prior-knowledge", "-d", raw, `${url}/gymmesh.v1.AgentService/Run`]);
    expect(rawCall.code, rawCall.stderr).toBe(0);
    const line = JSON.parse(JSON.parse(rawCall.stdout).outputLineJson);
    expect(line).toMatchObject({ ...row, reward: 1, agent_ref: { name: AGENT } });
    expect(line.response.output.map((i: { type: string }) => i.type)).toEqual(["function_call", "function_call_output", "message"]);

    const health = await run(BUF, ["curl", "--http2-prior-knowledge", "-d", "{}", `${url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
  });
});
