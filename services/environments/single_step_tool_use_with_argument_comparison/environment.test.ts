import * as fs from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../../gen/gymmesh/v1/agent_pb.js";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import type { ResponseCreateParams } from "../../../gen/gymmesh/v1/responses_pb.js";
import { VerdictSchema, type Task } from "../../../gen/gymmesh/v1/task_pb.js";
import { ENVIRONMENTS_CONFIG } from "../../../testing/environment-mesh.js";
import { runToolSimulationAgent } from "../../agent/single-call-agents.js";
import { loadConfig } from "../../app/config.js";
import { startMesh, type RunningMesh } from "../../app/start.js";
import { checkRow } from "../../cli/check-data.js";
import { clientFor } from "../../mesh/clients.js";
import { localClient } from "../../mesh/local-transport.js";
import { setQuiet } from "../../mesh/log.js";
import { paramsToJson, responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { environmentSettings } from "../../resources/environment.js";
import { createResourcesService } from "../../resources/host.js";
import { extractAction, type Action } from "./actions.js";
import { Category, compareAction, compareArguments, findMaximumMatching, stringsMatch, type ComparatorConfig } from "./comparator.js";
import env from "./environment.js";
import { pyJsonLoadsTyped } from "../../pycompat/json-loads.js";

type Json = Record<string, any>;

const readJsonl = (name: string): Json[] =>
  fs
    .readFileSync(new URL(`./data/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const DEFAULT = environmentSettings(env).tool_call_comparator_config;
const config = (over: Partial<ComparatorConfig> = {}): ComparatorConfig => ({ ...DEFAULT, ...over });
const PARALLEL_SETTINGS = {
  tool_call_comparator_config: {
    word_count_similarity_threshold: 0.1,
    parallel_tool_call_rewarding: true,
    allow_subset: true,
    allow_superset: true,
    parallel_tool_call_reward_mode: "f1",
  },
};

const call = (query: string, name = "search"): Action => ({ type: "function_call", name, arguments: JSON.stringify({ query }) });
const batch = (...calls: Action[]): Action => ({ type: "function_call_batch", calls: calls.map((c) => c as Extract<Action, { type: "function_call" }>) });
const outcome = (c: ComparatorConfig, expected: Action, actual: Action) => {
  const { reward, category } = compareAction(c, expected, actual);
  return [Math.round(reward * 1e9) / 1e9, category];
};
const args = (c: ComparatorConfig, expected: string, actual: string) => compareArguments(c, pyJsonLoadsTyped(expected), pyJsonLoadsTyped(actual));

function responseJson(...output: Json[]): Json {
  return { id: "resp_t", created_at: 1, model: "m", object: "response", output, parallel_tool_calls: true, tool_choice: "auto", tools: [] };
}
const fc = (name: string, a: string, i = 0) => ({ type: "function_call", id: `fc_${i}`, call_id: `call_${i}`, name, arguments: a, status: "completed" });
const text = (t: string) => ({ type: "message", id: "msg", role: "assistant", status: "completed", content: [{ type: "output_text", text: t, annotations: [] }] });

describe("argument comparison (NeMo Gym's compare_tool_call_arguments)", () => {
  const c = config();
  it("compares JSON values with Python's types: bool is an int, int is not a float, null is only null", () => {
    expect(args(c, '{"n": 1}', '{"n": true}')).toBeNull();
    expect(args(c, '{"n": 2}', '{"n": true}')).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
    expect(args(c, '{"b": true}', '{"b": 1}')).toBe(Category.ARGUMENT_VALUE_TYPE_DIFFERENT);
    expect(args(c, '{"x": 75}', '{"x": 75.0}')).toBe(Category.ARGUMENT_VALUE_TYPE_DIFFERENT);
    expect(args(c, '{"x": 75.0}', '{"x": 75}')).toBe(Category.ARGUMENT_VALUE_TYPE_DIFFERENT);
    expect(args(c, '{"x": null}', '{"x": "None"}')).toBe(Category.ARGUMENT_VALUE_TYPE_DIFFERENT);
    expect(args(c, '{"x": 12345678901234567890}', '{"x": 12345678901234567891}')).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
  });

  it("compares floats within floating_point_comparison_threshold; NaN and infinities never match", () => {
    expect(args(c, "1.0", "1.000000001")).toBeNull();
    expect(args(c, "1.0", "2.0")).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
    expect(args(config({ floating_point_comparison_threshold: 0.5 }), "1.0", "1.4")).toBeNull();
    expect(args(c, "Infinity", "Infinity")).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
    expect(args(c, "NaN", "NaN")).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
  });

  it("reports keys, list lengths and the first differing value in the expected object's key order", () => {
    expect(args(c, '{"a": 1}', '{"a": 1, "b": 2}')).toBe(Category.ARGUMENT_OBJECT_KEYS_DIFFERENT);
    expect(args(c, '{"a": [1, 2]}', '{"a": [1]}')).toBe(Category.ARGUMENT_LIST_LENGTH_DIFFERENT);
    expect(args(c, '{"a": [1, 2]}', '{"a": [2, 1]}')).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
    // Python walks "2" before "1"; a JavaScript object would put "1" first.
    expect(args(c, '{"2": 1, "1": "x"}', '{"1": "y", "2": "z"}')).toBe(Category.ARGUMENT_VALUE_TYPE_DIFFERENT);
  });

  it("compares short strings exactly and longer ones by lowercased word overlap", () => {
    expect(stringsMatch(c, "Paris", "paris")).toBe(false);
    expect(stringsMatch(c, "Paris", " Paris")).toBe(false);
    expect(stringsMatch(c, "New York", "york")).toBe(false);
    expect(stringsMatch(c, "one two three", "THREE  two\tone")).toBe(true);
    expect(stringsMatch(c, "one two three", "four five six")).toBe(false);
    // 2 common words of 20: exactly the 0.1 threshold.
    expect(stringsMatch(c, "a b c d e f g h i j", "a b m n o p q r s t")).toBe(true);
    expect(stringsMatch(c, "a b c d e f g h i j", "a k l m n o p q r s")).toBe(false);
    expect(stringsMatch(config({ word_count_similarity_threshold: 0.6 }), "new york", "new york")).toBe(false);
    // Python's whitespace, not JavaScript's \s.
    expect(stringsMatch(config({ word_count_similarity_threshold: 0.5 }), "alpha beta", "alpha\u001cbeta")).toBe(true);
  });
});

describe("action comparison (NeMo Gym's ActionComparator)", () => {
  const strict = config({ parallel_tool_call_rewarding: true });
  it("dispatches on the expected action", () => {
    const message: Action = { type: "message", content: "This is a message." };
    expect(outcome(DEFAULT, message, { type: "message", content: "Other." })).toEqual([1, Category.EXPECTED_CHAT_MESSAGE_FOUND]);
    expect(outcome(DEFAULT, message, call("alpha"))).toEqual([0, Category.NO_EXPECTED_CHAT_MESSAGE]);
    expect(outcome(DEFAULT, call("alpha"), message)).toEqual([0, Category.NO_EXPECTED_TOOL_CALL]);
    expect(outcome(DEFAULT, batch(call("alpha"), call("beta")), message)).toEqual([0, Category.NO_EXPECTED_TOOL_CALL]);
    expect(outcome(DEFAULT, call("alpha"), call("alpha", "other"))).toEqual([0, Category.UNEXPECTED_TOOL]);
    expect(outcome(DEFAULT, call("alpha"), { type: "function_call", name: "search", arguments: "first=one" })).toEqual([0, Category.ARGUMENTS_DECODE_ERROR]);
  });

  it("with parallel rewarding off (the default), surplus calls cost nothing", () => {
    expect(outcome(DEFAULT, call("alpha"), batch(call("junk"), call("alpha"), call("junk2")))).toEqual([1, Category.EXPECTED_TOOL_CALL]);
    expect(outcome(DEFAULT, batch(call("alpha"), call("beta")), batch(call("beta"), call("junk"), call("alpha")))).toEqual([1, Category.EXPECTED_TOOL_CALL_BATCH]);
    expect(outcome(DEFAULT, batch(call("alpha"), call("beta")), call("alpha"))).toEqual([0, Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT]);
    expect(outcome(config({ parallel_tool_call_reward_mode: "f1" }), call("alpha"), batch(call("alpha"), call("j")))).toEqual([1, Category.EXPECTED_TOOL_CALL]);
  });

  it("with it on, the gate and the reward mode decide", () => {
    expect(outcome(strict, call("alpha"), batch(call("alpha"), call("junk")))).toEqual([0, Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT]);
    const two = batch(call("alpha"), call("beta"));
    const f1 = (over: Partial<ComparatorConfig>) => config({ parallel_tool_call_rewarding: true, parallel_tool_call_reward_mode: "f1", ...over });
    expect(outcome(f1({}), two, batch(call("alpha"), call("wrong")))).toEqual([0.5, Category.ARGUMENT_VALUE_DIFFERENT]);
    expect(outcome(f1({ allow_subset: true }), two, call("alpha"))).toEqual([0.666666667, Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT]);
    const spam = batch(call("alpha"), call("beta"), ...Array.from({ length: 20 }, (_, i) => call(`junk${i}`)));
    expect(outcome(f1({ allow_superset: true }), two, spam)).toEqual([0.166666667, Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT]);
    // Under binary_strict and fractional an admitted shape is a free pass.
    expect(outcome(config({ parallel_tool_call_rewarding: true, allow_superset: true }), two, spam)).toEqual([1, Category.EXPECTED_TOOL_CALL_BATCH]);
    expect(outcome(config({ parallel_tool_call_rewarding: true, allow_subset: true, parallel_tool_call_reward_mode: "fractional" }), two, call("beta"))).toEqual([
      1,
      Category.EXPECTED_TOOL_CALL_BATCH,
    ]);
    const three = batch(call("alpha"), call("beta"), call("gamma"));
    const fractional = config({ parallel_tool_call_rewarding: true, parallel_tool_call_reward_mode: "fractional" });
    for (let matched = 0; matched <= 3; matched++) {
      const actual = [...["alpha", "beta", "gamma"].slice(0, matched), ...["w1", "w2", "w3"].slice(0, 3 - matched)].map((q) => call(q));
      expect(compareAction(fractional, three, batch(...actual)).reward).toBeCloseTo(matched / 3, 12);
    }
  });

  it("finds the maximum matching where pairing in order would strand a call", () => {
    expect(outcome(config({ word_count_similarity_threshold: 0.3 }), batch(call("aa bb cc dd"), call("aa bb")), batch(call("aa bb"), call("cc dd")))).toEqual([
      1,
      Category.EXPECTED_TOOL_CALL_BATCH,
    ]);
    expect([...findMaximumMatching([[0, 1], [0]])]).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(findMaximumMatching([[], []]).size).toBe(0);
    expect([...findMaximumMatching([[0], [0]])]).toEqual([[0, 0]]);
  });

  it("names the first unmatched expected call's reason", () => {
    const expected = batch(call("alpha"), call("beta", "lookup"));
    expect(outcome(DEFAULT, expected, batch(call("alpha"), call("beta", "other")))).toEqual([0, Category.UNEXPECTED_TOOL]);
    expect(outcome(DEFAULT, expected, batch(call("alpha"), call("wrong", "lookup")))).toEqual([0, Category.ARGUMENT_VALUE_DIFFERENT]);
  });
});

describe("extracting the response's action", () => {
  const of = (...output: Json[]) => extractAction(responseFromJson(responseJson(...output)));
  it("takes calls before text; several calls are a batch; the first output_text of an assistant message is the text", () => {
    expect(of(text("hi"), fc("a", "{}"))).toEqual({ type: "function_call", name: "a", arguments: "{}" });
    expect(of(fc("a", "{}", 1), fc("b", "x", 2))).toMatchObject({ type: "function_call_batch", calls: [{ name: "a" }, { name: "b", arguments: "x" }] });
    const refusal = { type: "message", id: "r", role: "assistant", status: "completed", content: [{ type: "refusal", refusal: "no" }] };
    expect(of(refusal, text("second"))).toEqual({ type: "message", content: "second" });
    expect(of(refusal)).toBeNull();
    expect(of({ type: "reasoning", id: "rs", summary: [{ type: "summary_text", text: "thinking" }] })).toBeNull();
    expect(of(text(""))).toEqual({ type: "message", content: "" });
  });

  it("refuses an assistant message whose content is a string (NeMo Gym fails on it)", () => {
    expect(() => of({ type: "message", id: "m", role: "assistant", content: "Hello" })).toThrow(/content must be a list/);
    // Once the text is found, NeMo Gym never looks at such a message.
    expect(of(text("first"), { type: "message", id: "m", role: "assistant", content: "Hello" })).toEqual({ type: "message", content: "first" });
  });

  it("refuses an assistant message with parts NeMo Gym does not take as output parts", () => {
    const parts = (...content: Json[]) => ({ type: "message", id: "m", role: "assistant", status: "completed", content });
    const input = { type: "input_text", text: "hi" };
    expect(() => of(parts(input))).toThrow(/not input parts/);
    expect(of(text("first"), parts(input))).toEqual({ type: "message", content: "first" });
    expect(() => of(text("first"), parts({ type: "output_text", text: "a", annotations: [] }, input))).toThrow(/must be output_text and refusal parts/);
    expect(() => of(text("first"), parts({ type: "output_audio", data: "x" }))).toThrow(/must be output_text and refusal parts/);
  });
});

describe("settings (NeMo Gym's tool_call_comparator_config)", () => {
  it("default to NeMo Gym's default config, and fill the comparator's own defaults", () => {
    expect(environmentSettings(env)).toEqual({
      tool_call_comparator_config: {
        word_count_similarity_threshold: 0.1,
        floating_point_comparison_threshold: 1e-6,
        parallel_tool_call_rewarding: false,
        allow_subset: false,
        allow_superset: false,
        parallel_tool_call_reward_mode: "binary_strict",
      },
    });
    expect(environmentSettings(env, { tool_call_comparator_config: { word_count_similarity_threshold: 0.3 } }).tool_call_comparator_config).toMatchObject({
      word_count_similarity_threshold: 0.3,
      parallel_tool_call_rewarding: false,
    });
  });

  it("refuse a missing threshold, an unknown mode and unknown fields", () => {
    expect(() => environmentSettings(env, { tool_call_comparator_config: {} })).toThrow(/word_count_similarity_threshold/);
    expect(() => environmentSettings(env, { tool_call_comparator_config: { word_count_similarity_threshold: 0.1, parallel_tool_call_reward_mode: "recall" } })).toThrow(
      /parallel_tool_call_reward_mode/,
    );
    expect(() => environmentSettings(env, { tool_call_comparator_config: { word_count_similarity_threshold: 0.1, allow_superst: true } })).toThrow(/allow_superst/);
  });

  it("config/environments.yaml serves the default and the parallel config", () => {
    const { instances } = loadConfig(ENVIRONMENTS_CONFIG, {});
    const settingsOf = (name: string) => (instances[name] as { settings?: unknown }).settings;
    expect(environmentSettings(env, settingsOf(env.name))).toEqual(environmentSettings(env));
    expect(environmentSettings(env, settingsOf(`parallel_tool_calls_${env.name}`))).toEqual(environmentSettings(env, PARALLEL_SETTINGS));
  });
});

describe("rows", () => {
  const resources = localClient(ResourcesService, createResourcesService(env));
  const verify = async (row: Json, response: Json) => (await resources.verify({ task: taskFromJson(row), response: responseFromJson(response) })).verdict!;
  const base = { responses_create_params: { input: [{ role: "user", content: "hi" }] } };

  it("pass gym check-data with the tools they offer (simulated, never run here)", () => {
    for (const file of ["example.jsonl", "parallel_example.jsonl"]) {
      for (const row of readJsonl(file)) expect(checkRow(env, JSON.stringify(row))).toEqual([]);
    }
    expect(checkRow(env, JSON.stringify(base))[0]).toMatch(/^expected_action/);
  });

  it("that are malformed are INVALID_ARGUMENT naming the field", async () => {
    const bad = async (expected_action: unknown) => {
      const err = await verify({ ...base, expected_action }, responseJson(fc("f", "{}"))).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.InvalidArgument);
      return err!.rawMessage;
    };
    expect(await bad(undefined)).toMatch(/task\.expected_action/);
    expect(await bad({ type: "function_call", name: "f", arguments: { a: 1 } })).toMatch(/task\.expected_action\.arguments/);
    expect(await bad({ type: "function_call_batch", calls: [] })).toMatch(/task\.expected_action\.calls/);
    expect(await bad({ type: "tool", name: "f" })).toMatch(/task\.expected_action\.type/);
    // Not JSON: found when a call of that tool is compared with it, as in NeMo Gym.
    expect(await bad({ type: "function_call", name: "f", arguments: "{a: 1}" })).toMatch(/task\.expected_action\.arguments: not valid JSON/);
    expect((await verify({ ...base, expected_action: { type: "function_call", name: "g", arguments: "{a: 1}" } }, responseJson(fc("f", "{}")))).reward).toBe(0);
  });

  it("score NeMo Gym's stored rollouts as they were scored, with the same fields", async () => {
    const rollouts = readJsonl("example_rollouts.jsonl");
    expect(rollouts.map((r) => r.reward)).toEqual([1, 1, 0, 1, 0]);
    for (const r of rollouts) {
      const verdict = await verify(r, r.response);
      expect({ reward: verdict.reward, ...verdictFields(verdict) }).toEqual({ reward: r.reward, expected_action: r.expected_action, category: r.category });
    }
  });
});

// The rows the end-to-end tests send: the mock model calls the offered tools with
// made-up arguments ({"city": "San Francisco"}), so the expected calls are those.
const CITY = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
const tool = (name: string) => ({ type: "function", name, description: `${name} of a city`, parameters: CITY, strict: true });
const SF = '{"city": "San Francisco"}';
function e2eRow(expected: Json, { tools = ["get_weather", "get_time"], parallel = true, input }: { tools?: string[]; parallel?: boolean; input?: unknown } = {}): Task {
  return taskFromJson({
    responses_create_params: { input: input ?? [{ role: "user", content: "Weather and time in San Francisco?" }], tools: tools.map(tool), parallel_tool_calls: parallel },
    expected_action: expected,
  });
}
const want = (name: string, a = SF) => ({ type: "function_call", name, arguments: a });

describe("through the mesh with tool_simulation_agent (mock model, config/environments.yaml)", () => {
  let mesh: RunningMesh;
  let parallelMesh: RunningMesh;
  beforeAll(async () => {
    setQuiet(true);
    const { instances } = loadConfig(ENVIRONMENTS_CONFIG, {});
    const keep = (names: string[]) => Object.fromEntries(names.map((n) => [n, instances[n]!]));
    const names = ["mock_openai", "policy_model", env.name, `${env.name}_agent`, `parallel_tool_calls_${env.name}`, `parallel_tool_calls_${env.name}_agent`];
    const skipping = { ...instances[`${env.name}_agent`]!, skip_verification: true, skip_verification_reward: 0.25 } as (typeof instances)[string];
    mesh = await startMesh({ instances: { ...keep(names), skipping_agent: skipping } });
    // The same, with a mock model that calls every offered tool at once.
    parallelMesh = await startMesh({ instances: { ...keep(names), mock_openai: { ...instances.mock_openai!, parallel_tool_calls: true } as (typeof instances)[string] } });
  });
  afterAll(async () => {
    await Promise.all([mesh?.close(), parallelMesh?.close()]);
  });

  const run = async (m: RunningMesh, agent: string, task: Task) => {
    const { rollout } = await clientFor(AgentService, m.url(agent)).run({ input: { case: "task", value: task } });
    return { output: rollout!.response!.output, steps: rollout!.steps, reward: rollout!.verdict!.reward, fields: verdictFields(rollout!.verdict) };
  };
  const defaultAgent = `${env.name}_agent`;
  const parallelAgent = `parallel_tool_calls_${env.name}_agent`;

  it("one model call, its tool call compared and not run: reward 1 for the expected call", async () => {
    const got = await run(mesh, defaultAgent, e2eRow(want("get_weather")));
    expect(got.output.map((i) => i.kind.case)).toEqual(["functionCall"]);
    expect(got.steps).toBe(1);
    expect(got).toMatchObject({ reward: 1, fields: { category: Category.EXPECTED_TOOL_CALL, expected_action: want("get_weather") } });
  });

  it("another tool, other arguments, a call where a message was expected: reward 0 with the reason", async () => {
    expect((await run(mesh, defaultAgent, e2eRow(want("get_time")))).fields.category).toBe(Category.UNEXPECTED_TOOL);
    expect((await run(mesh, defaultAgent, e2eRow(want("get_weather", '{"city": "Paris"}')))).fields.category).toBe(Category.ARGUMENT_VALUE_DIFFERENT);
    const message = await run(mesh, defaultAgent, e2eRow({ type: "message", content: "Which city?" }));
    expect(message).toMatchObject({ reward: 0, fields: { category: Category.NO_EXPECTED_CHAT_MESSAGE } });
  });

  it("a plain-string input with no tools: the mock answers in text, which a message row rewards", async () => {
    const got = await run(mesh, defaultAgent, e2eRow({ type: "message", content: "Hello." }, { tools: [], input: "Hi there" }));
    expect(got.output.map((i) => i.kind.case)).toEqual(["message"]);
    expect(got).toMatchObject({ reward: 1, fields: { category: Category.EXPECTED_CHAT_MESSAGE_FOUND } });
  });

  it("parallel calls: an exact batch in another order earns 1 under both configs", async () => {
    const row = e2eRow({ type: "function_call_batch", calls: [want("get_time"), want("get_weather")] });
    for (const agent of [defaultAgent, parallelAgent]) {
      const got = await run(parallelMesh, agent, row);
      expect(got.output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCall"]);
      expect(got).toMatchObject({ reward: 1, fields: { category: Category.EXPECTED_TOOL_CALL_BATCH } });
    }
  });

  it("parallel calls: a surplus call is free by default, and costs F1 under the parallel config", async () => {
    const row = e2eRow(want("get_weather"));
    expect(await run(parallelMesh, defaultAgent, row)).toMatchObject({ reward: 1, fields: { category: Category.EXPECTED_TOOL_CALL } });
    const f1 = await run(parallelMesh, parallelAgent, row);
    expect(f1.reward).toBeCloseTo(2 / 3, 12);
    expect(f1.fields.category).toBe(Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT);
  });

  it("parallel calls: a missing call scores 0 by default and F1 4/5 under the parallel config", async () => {
    const row = e2eRow({ type: "function_call_batch", calls: [want("get_weather"), want("get_time"), want("get_weather", '{"city": "Paris"}')] });
    expect(await run(parallelMesh, defaultAgent, row)).toMatchObject({ reward: 0, fields: { category: Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT } });
    expect((await run(parallelMesh, parallelAgent, row)).reward).toBeCloseTo(0.8, 12);
  });

  it("parallel_tool_calls: false in the row gets one call from the mock, which the parallel config scores as a subset", async () => {
    const row = e2eRow({ type: "function_call_batch", calls: [want("get_weather"), want("get_time")] }, { parallel: false });
    const got = await run(parallelMesh, parallelAgent, row);
    expect(got.output.map((i) => i.kind.case)).toEqual(["functionCall"]);
    expect(got.reward).toBeCloseTo(2 / 3, 12);
  });

  it("a malformed row fails the rollout with INVALID_ARGUMENT; skip_verification never asks the verifier", async () => {
    const bad = e2eRow({ type: "function_call", name: "get_weather" });
    await expect(run(mesh, defaultAgent, bad)).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.expected_action.arguments") });
    const skipped = await run(mesh, "skipping_agent", bad);
    expect(skipped).toMatchObject({ reward: 0.25, fields: { verification_skipped: true } });
  });

  it("serves NeMo Gym's /verify as 0.7.0's tool_simulation_agent posts it: no session cookie, the dumped request and response", async () => {
    const row = readJsonl("parallel_example.jsonl")[0]!;
    const calls = row.expected_action.calls as Json[];
    // pydantic's model_dump: every unset field as null.
    const nulls = { background: null, include: null, instructions: null, max_output_tokens: null, metadata: null, model: null, store: null, user: null, stream: null };
    const body = {
      ...row,
      responses_create_params: { ...row.responses_create_params, ...nulls },
      response: {
        ...responseJson(...[...calls].reverse().map((c, i) => ({ ...fc(c.name, c.arguments, i), id: null, status: null, namespace: null }))),
        error: null,
        incomplete_details: null,
        usage: null,
      } as Json,
    };
    const post = async (instance: string) => {
      const res = await fetch(`${mesh.url(instance)}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as Json;
    };
    const f1 = await post(`parallel_tool_calls_${env.name}`);
    expect(f1).toMatchObject({ reward: 1, category: Category.EXPECTED_TOOL_CALL_BATCH, expected_action: row.expected_action, responses_create_params: body.responses_create_params });
    body.response.output.pop();
    expect((await post(`parallel_tool_calls_${env.name}`)).reward).toBeCloseTo(0.8, 12);
    expect(await post(env.name)).toMatchObject({ reward: 0, category: Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT });
  });
});

describe("runToolSimulationAgent (what it sends, as NeMo Gym 0.7.0's tool_simulation_agent)", () => {
  function fakes(verifyFails = false) {
    const seen: { model: ResponseCreateParams[]; verify: { sessionId: string; task?: Task }[]; seeded: number } = { model: [], verify: [], seeded: 0 };
    const model = {
      createResponse: async (req: { params?: ResponseCreateParams }) => {
        seen.model.push(req.params!);
        return { response: responseFromJson(responseJson(fc("get_weather", SF))) };
      },
    };
    const resources = {
      seedSession: async () => {
        seen.seeded++;
        return { sessionId: "s" };
      },
      verify: async (req: { sessionId: string; task?: Task }) => {
        seen.verify.push(req);
        if (verifyFails) throw new ConnectError("task.expected_action: bad", Code.InvalidArgument);
        return { verdict: create(VerdictSchema, { reward: 1 }) };
      },
    };
    return { seen, deps: { name: "t", model: model as never, resources: resources as never, maxSteps: 10 } };
  }

  it("sends the row's request as it is (a string input stays a string), then verifies the row and response with no session", async () => {
    const { seen, deps } = fakes();
    const task = e2eRow(want("get_weather"), { input: "Weather in San Francisco?" });
    const rollout = await runToolSimulationAgent(deps, task, "r1");
    expect(seen.model.map((p) => paramsToJson(p).input)).toEqual(["Weather in San Francisco?"]);
    expect(seen.seeded).toBe(0);
    expect(seen.verify).toHaveLength(1);
    expect(seen.verify[0]!.sessionId).toBe("");
    expect(seen.verify[0]!.task).toBe(task);
    expect(rollout.verdict?.reward).toBe(1);
  });

  it("skip_verification: the configured reward and verification_skipped, no verify call; a failing verify fails the rollout", async () => {
    const skip = fakes();
    const rollout = await runToolSimulationAgent({ ...skip.deps, skipVerification: true, skipVerificationReward: 0.5 }, e2eRow(want("x")), "r2");
    expect(skip.seen.verify).toHaveLength(0);
    expect({ reward: rollout.verdict?.reward, ...verdictFields(rollout.verdict) }).toEqual({ reward: 0.5, verification_skipped: true });
    const failing = fakes(true);
    await expect(runToolSimulationAgent(failing.deps, e2eRow(want("x")), "r3")).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});
