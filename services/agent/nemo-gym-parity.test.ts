// Our agent kinds end a rollout where NeMo Gym 0.7.0's do
// (responses_api_agents/simple_agent/app.py, gymnasium_agent/app.py): a
// scripted model (what each turn answers) drives the real runners against an
// in-process environment host.
import type { JsonObject } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ResponseStatus } from "../../gen/gymmesh/v1/responses_pb.js";
import { localClient } from "../mesh/local-transport.js";
import { setQuiet } from "../mesh/log.js";
import { responseFromJson, responseToJson, taskFromJson } from "../openai/responses-json.js";
import { defineEnvironment, defineTool, verifyByStepOnly } from "../resources/environment.js";
import { createResourcesHost } from "../resources/host.js";
import { runGymnasiumAgent } from "./gymnasium-agent.js";
import type { AgentDeps } from "./rollout-parts.js";
import { runSimpleAgent } from "./simple-agent.js";

beforeAll(() => setQuiet(true));

const reasoning = { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "thinking..." }] };
const call = (args = '{"city": "Paris"}') => ({ type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: args, status: "completed" });
const answer = (text: string) => ({ type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] });
const turn = (output: JsonObject[], extra: JsonObject = {}): JsonObject => ({ id: "resp", object: "response", model: "m", status: "completed", output, ...extra });

const weather = defineEnvironment<undefined>({
  name: "weather",
  description: "One tool; reward 1 when the answer says sunny.",
  tools: [defineTool({ name: "lookup", description: "Weather.", args: z.object({ city: z.string() }), run: () => "sunny" })],
  verify: ({ response }) => ({ reward: JSON.stringify(responseToJson(response)).includes("sunny.") ? 1 : 0 }),
});

const task = taskFromJson({ responses_create_params: { input: "Weather in Paris?" } });

/** Deps whose model answers `turns` in order; `calls` counts the model calls. */
function deps(turns: JsonObject[], maxSteps = 10) {
  const host = createResourcesHost(weather);
  let calls = 0;
  const model = localClient(ModelService, {
    createResponse: () => {
      const next = turns[calls++];
      if (!next) throw new Error("the script has no more turns");
      return { response: responseFromJson(next) };
    },
  });
  const d: AgentDeps = { name: "agent", model, resources: localClient(ResourcesService, host.resources), maxSteps };
  return { deps: d, calls: () => calls, open: host.openSessions };
}

describe("simple_agent ends where NeMo Gym 0.7.0's does", () => {
  it("stops on a reasoning-only turn, marking the response incomplete (incomplete_reasoning)", async () => {
    const d = deps([turn([reasoning]), turn([answer("sunny.")])]);
    const rollout = await runSimpleAgent(d.deps, task, "r1");
    expect(d.calls()).toBe(1);
    expect(rollout.steps).toBe(1);
    expect(rollout.response!.status).toBe(ResponseStatus.INCOMPLETE);
    const json = responseToJson(rollout.response!);
    expect(json.status).toBe("incomplete");
    expect(json.metadata).toMatchObject({ ng_termination_reason: "incomplete_reasoning" });
    expect(typeof (json.metadata as JsonObject).ng_termination_message).toBe("string");
    expect(rollout.verdict!.reward).toBe(0);
  });

  it("stops on an empty turn (empty_output), keeping the model's own metadata", async () => {
    const d = deps([turn([], { metadata: { run: "7" } }), turn([answer("sunny.")])]);
    const rollout = await runSimpleAgent(d.deps, task, "r2");
    expect(d.calls()).toBe(1);
    expect(responseToJson(rollout.response!).metadata).toMatchObject({ run: "7", ng_termination_reason: "empty_output" });
  });

  it("goes on after tool calls, and an answer ends the rollout as completed", async () => {
    const d = deps([turn([reasoning, call()]), turn([answer("sunny.")])]);
    const rollout = await runSimpleAgent(d.deps, task, "r3");
    expect(d.calls()).toBe(2);
    expect(rollout.response!.output.map((i) => i.kind.case)).toEqual(["reasoning", "functionCall", "functionCallOutput", "message"]);
    expect(rollout.response!.status).toBe(ResponseStatus.COMPLETED);
    expect(responseToJson(rollout.response!).metadata).toBeUndefined();
    expect(rollout.verdict!.reward).toBe(1);
  });

  it("does not run the tool calls of a turn the model reports incomplete (incomplete_details)", async () => {
    const cut = turn([call()], { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    const d = deps([cut, turn([answer("sunny.")])]);
    const rollout = await runSimpleAgent(d.deps, task, "r4");
    expect(d.calls()).toBe(1);
    expect(rollout.response!.output.map((i) => i.kind.case)).toEqual(["functionCall"]);
    expect(responseToJson(rollout.response!).metadata).toBeUndefined();
  });

  it("a null incomplete_details is no report", async () => {
    const d = deps([turn([call()], { incomplete_details: null }), turn([answer("sunny.")])]);
    await runSimpleAgent(d.deps, task, "r5");
    expect(d.calls()).toBe(2);
  });

  it("stops after max_steps model calls that all called tools", async () => {
    const d = deps([turn([call()]), turn([call()]), turn([call()])], 2);
    const rollout = await runSimpleAgent(d.deps, task, "r6");
    expect(d.calls()).toBe(2);
    expect(rollout.steps).toBe(2);
  });
});

describe("simple_agent answers arguments json.loads refuses as NeMo Gym 0.7.0 does", () => {
  // [arguments, the tool output 0.7.0's simple_agent gives the model] (its own json.loads and repr).
  // Not here: a trailing comma, which Python 3.13's json.loads reports as "Illegal trailing
  // comma before end of object" and pycompat/json-loads.ts still as Python 3.12 did.
  const cases: [string, string][] = [
    ["", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Expecting value: line 1 column 1 (char 0)')\"}"],
    ["{oops", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Expecting property name enclosed in double quotes: line 1 column 2 (char 1)')\"}"],
    ["{\"city\": ", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Expecting value: line 1 column 10 (char 9)')\"}"],
    ["{'a': 1}", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Expecting property name enclosed in double quotes: line 1 column 2 (char 1)')\"}"],
    ["{\"a\": \"\u00e9\\x\"}", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Invalid \\\\\\\\escape: line 1 column 9 (char 8)')\"}"],
    ["[1] x", "{\"error\": \"Invalid tool call arguments: JSONDecodeError('Extra data: line 1 column 5 (char 4)')\"}"]
  ];
  for (const [args, python] of cases) {
    it(`arguments ${JSON.stringify(args)}`, async () => {
      const d = deps([turn([call(args)]), turn([answer("sunny.")])]);
      const rollout = await runSimpleAgent(d.deps, task, "a");
      const output = responseToJson(rollout.response!).output as JsonObject[];
      expect(output[1]).toMatchObject({ type: "function_call_output", call_id: "call_1", output: python });
    });
  }
});

describe("gymnasium_agent ends where NeMo Gym 0.7.0's does", () => {
  const game = defineEnvironment<{ turns: number }>({
    name: "game",
    description: "Two turns; each step reports a tool output and an observation.",
    tools: [],
    createState: () => ({ turns: 0 }),
    verify: verifyByStepOnly("game"),
    reset: () => ({ observation: "Start." }),
    step: ({ state }) => {
      state.turns++;
      return { reward: 0.5, terminated: state.turns >= 2, truncated: false, observation: `after ${state.turns}`, info: { tool_outputs: [{ call_id: `c${state.turns}`, output: "ok" }] } };
    },
  });

  it("adds the tool outputs and observation of a step that goes on, not of the last one", async () => {
    const host = createResourcesHost(game);
    const model = localClient(ModelService, { createResponse: () => ({ response: responseFromJson(turn([answer("move")])) }) });
    const d: AgentDeps = {
      name: "agent",
      model,
      resources: localClient(ResourcesService, host.resources),
      episodes: localClient(EpisodeService, host.episodes),
      maxSteps: 10,
    };
    const rollout = await runGymnasiumAgent(d, task, "g1");
    const items = responseToJson(rollout.response!).output as JsonObject[];
    expect(items.map((i) => i.type ?? i.role)).toEqual(["message", "function_call_output", "user", "message"]);
    expect(rollout.verdict!.reward).toBe(1);
    expect(host.openSessions()).toBe(0);
  });
});
