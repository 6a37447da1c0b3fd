// The replay model over NeMo Gym's recorded rollouts (real OpenAI responses):
// every step of every recording is answered with what the real model said,
// unknown and diverging conversations get clear errors, and the default mesh
// reproduces the recorded behaviour end to end.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { clientFor } from "../mesh/clients.js";
import { loadConfig } from "../app/config.js";
import { setQuiet } from "../mesh/log.js";
import { paramsFromJson, responseFromJson, responseToJson, taskFromJson } from "../openai/responses-json.js";
import { startMesh, type RunningMesh } from "../app/start.js";
import { ReplayBook } from "./replay.js";
import { startMock, startModel, type RunningMock, type RunningModel } from "../../testing/model-kit.js";
import { nemoGymFiles } from "../../testing/data/nemo-gym/files.js";

setQuiet(true);

const here = path.dirname(fileURLToPath(import.meta.url));
const ENVIRONMENTS = path.resolve(here, "../environments");
const ROLLOUT_FILES = nemoGymFiles().filter((f) => path.basename(f.name) === "example_rollouts.jsonl");
const EXAMPLE_ROLLOUTS = path.join(ENVIRONMENTS, "example_single_tool_call/data/example_rollouts.jsonl");

const rows = (file: string) =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonObject);

/** Each step of a recording: the request the agent makes, and the items the model answered. */
function stepsOf(row: JsonObject): { request: JsonObject; answer: JsonObject[]; last: boolean }[] {
  const params = row.responses_create_params as JsonObject;
  const output = (row.response as JsonObject).output as JsonObject[];
  const steps = [];
  let i = 0;
  while (i < output.length) {
    if (output[i]!.type === "function_call_output") {
      i++;
      continue;
    }
    const start = i;
    while (i < output.length && output[i]!.type !== "function_call_output") i++;
    steps.push({ request: { ...params, input: [...(params.input as JsonObject[]), ...output.slice(0, start)] }, answer: output.slice(start, i), last: i === output.length });
  }
  return steps;
}

describe("ReplayBook over NeMo Gym's recorded rollouts", () => {
  it("finds the recordings", () => {
    expect(ROLLOUT_FILES.length).toBeGreaterThanOrEqual(5);
    expect(ROLLOUT_FILES.map((f) => f.name)).toEqual([
      "example_multi_step/example_rollouts.jsonl",
      "example_single_tool_call/example_rollouts.jsonl",
      "math_with_judge/example_rollouts.jsonl",
      "mcqa/example_rollouts.jsonl",
      "structured_outputs/example_rollouts.jsonl",
    ]);
  });

  it.each(ROLLOUT_FILES.map((f) => [f.name, f.file]))("answers every step of %s as recorded", (_name, file) => {
    const book = ReplayBook.fromFiles([file]);
    let steps = 0;
    for (const row of rows(file)) {
      const recorded = row.response as JsonObject;
      for (const step of stepsOf(row)) {
        const answer = book.answer(step.request);
        expect(answer.kind).toBe("hit");
        if (answer.kind !== "hit") continue;
        expect(answer.response.output).toEqual(step.answer);
        expect(answer.response.model).toBe(recorded.model);
        expect(answer.response.usage).toEqual(step.last ? recorded.usage : undefined);
        // Every replayed step is a valid Response for the proto schema.
        expect(responseToJson(responseFromJson(answer.response))).toEqual(answer.response);
        steps++;
      }
    }
    expect(steps).toBeGreaterThanOrEqual(rows(file).length);
  });

  const multiStep = path.join(ENVIRONMENTS, "example_multi_step/data/example_rollouts.jsonl");

  it("matches on what the model saw, not on ids, statuses, reasoning or JSON spacing", () => {
    const book = ReplayBook.fromFiles([multiStep]);
    const step = stepsOf(rows(multiStep)[0]!)[2]!;
    const input = (step.request.input as JsonObject[]).map((item) => {
      const { id: _id, status: _status, ...rest } = item;
      if (rest.type === "function_call_output") rest.output = JSON.stringify(JSON.parse(String(rest.output)), null, 2);
      return rest;
    });
    input.splice(2, 0, { type: "reasoning", id: "rs_x", summary: [{ type: "summary_text", text: "thinking" }] });
    const answer = book.answer({ ...step.request, input, temperature: 0.3, seed: 4 });
    expect(answer.kind === "hit" && answer.response.output).toEqual(step.answer);
  });

  it("says where a known conversation went elsewhere, and that an unknown one is unknown", () => {
    const book = ReplayBook.fromFiles([EXAMPLE_ROLLOUTS]);
    const step = stepsOf(rows(EXAMPLE_ROLLOUTS)[2]!)[1]!;
    const input = step.request.input as JsonObject[];
    const changed = [...input.slice(0, -1), { ...input.at(-1)!, output: '{"city": "San Francisco", "weather_description": "sunny"}' }];
    const diverged = book.answer({ ...step.request, input: changed });
    expect(diverged.kind).toBe("diverged");
    expect(diverged.kind !== "hit" && diverged.message).toMatch(
      /follows example_rollouts\.jsonl:3 for 4 entries \(tools, messages, calls, outputs\), then has function_call_output\(\{"city":"San Francisco","weather_description":"sunny"\}\) where the recording has function_call_output\(\{"city":"San Francisco","weather_description":"The weather in San Francisco is c\.\.\.\)$/,
    );

    const unknown = book.answer({ input: [{ role: "user", content: "what's up?" }] });
    expect(unknown).toEqual({ kind: "unknown", message: expect.stringContaining('not in example_rollouts.jsonl (it starts with message(user: what\'s up?))') });
  });

  it("refuses a file with no recorded responses, naming it", () => {
    const tasks = path.join(ENVIRONMENTS, "example_single_tool_call/data/example.jsonl");
    expect(() => ReplayBook.fromFiles([tasks])).toThrow(`replay file ${tasks}: no rows with "responses_create_params" and "response"`);
  });
});

describe("the mock model replaying, through both APIs", () => {
  let upstream: RunningMock;
  let model: RunningModel;
  let chatModel: RunningModel;
  beforeAll(async () => {
    upstream = await startMock({ replay: ReplayBook.fromFiles([EXAMPLE_ROLLOUTS]), unknown: "error" });
    model = await startModel(upstream.baseUrl, { api: "responses" });
    chatModel = await startModel(upstream.baseUrl, { api: "chat_completions" });
  });
  afterAll(async () => {
    await Promise.all([model?.close(), chatModel?.close()]);
    await upstream?.server.close();
  });

  it("answers a recorded task with the recorded step, and an unknown one with NOT_FOUND", async () => {
    const row = rows(EXAMPLE_ROLLOUTS)[3]!;
    const recordedCall = ((row.response as JsonObject).output as JsonObject[])[0]!;
    for (const m of [model, chatModel]) {
      const { response } = await m.client.createResponse({ params: paramsFromJson(row.responses_create_params) });
      const out = responseToJson(response!).output as JsonObject[];
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ type: "function_call", name: "get_weather", arguments: recordedCall.arguments, call_id: recordedCall.call_id });
      expect(response!.model).toBe("gpt-4.1-2025-04-14");

      const err = await m.client.createResponse({ params: paramsFromJson({ input: "tell me a joke" }) }).catch((e: unknown) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.NotFound, rawMessage: expect.stringContaining("replay: this conversation is not in example_rollouts.jsonl") });
    }
    expect(upstream.mock.stats.replayed).toBe(2);
  });

  it("streams a replayed answer to the SDK", async () => {
    const row = rows(EXAMPLE_ROLLOUTS)[0]!;
    const client = new OpenAI({ baseURL: upstream.baseUrl, apiKey: "x", maxRetries: 0 });
    const stream = client.responses.stream(row.responses_create_params as never);
    const final = await stream.finalResponse();
    const recorded = ((row.response as JsonObject).output as JsonObject[])[0]!;
    expect(final.output_text).toBe(((recorded.content as JsonObject[])[0] as JsonObject).text);
  });
});

describe("config/replay.yaml (npm start) replays the recorded rollouts", () => {
  let mesh: RunningMesh;
  beforeAll(async () => {
    mesh = await startMesh(loadConfig(path.resolve(here, "../../config/replay.yaml"), {}));
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it.each(rows(EXAMPLE_ROLLOUTS).map((row, i) => [i + 1, row] as const))("reproduces recorded rollout %i", async (_line, row) => {
    const agent = clientFor(AgentService, mesh.url("example_single_tool_call_simple_agent"));
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson({ responses_create_params: row.responses_create_params }) } });
    const got = responseToJson(rollout!.response!);
    const recorded = row.response as JsonObject;
    // The model's items are the recorded ones; tool outputs come from our environment, so only their text is compared.
    const modelItems = (o: JsonObject[]) => o.filter((i) => i.type !== "function_call_output");
    const toolOutputs = (o: JsonObject[]) => o.filter((i) => i.type === "function_call_output").map((i) => i.output);
    expect(modelItems(got.output as JsonObject[])).toEqual(modelItems(recorded.output as JsonObject[]));
    expect(toolOutputs(got.output as JsonObject[])).toEqual(toolOutputs(recorded.output as JsonObject[]));
    expect(got.model).toBe(recorded.model);
  });
});
