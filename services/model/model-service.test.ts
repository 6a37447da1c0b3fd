import { ResponseStatus, Role } from "../../gen/gymmesh/v1/responses_pb.js";
// ModelService in front of a real OpenAI-compatible server (the mock) on
// loopback, through both upstream APIs: tools, parallel calls, reasoning,
// streaming, sampling settings, and token ids for RL.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamResponseResponse } from "../../gen/gymmesh/v1/model_pb.js";
import type { FunctionCall, Item, Message, Reasoning, Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { setQuiet } from "../mesh/log.js";
import { itemToJson, paramsFromJson, responseToJson } from "../openai/responses-json.js";
import type { MockRequestEvent } from "../mock-model/mock-model.js";
import { mockLogprob, renderPrompt } from "../mock-model/chat.js";
import { startMock, startModel, type RunningMock, type RunningModel } from "../../testing/model-kit.js";

setQuiet(true);

const WEATHER = {
  type: "function",
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};
const TIME = { type: "function", name: "get_time", parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] } };
const CONVERSATION = [
  { type: "message", role: "developer", content: "You are a helpful assistant." },
  { type: "message", role: "user", content: "how's the weather in sf?" },
];

const params = (json: JsonObject) => paramsFromJson(json);
const calls = (r: Response | undefined): FunctionCall[] => (r?.output ?? []).flatMap((i) => (i.kind.case === "functionCall" ? [i.kind.value] : []));
const messages = (r: Response | undefined): Message[] => (r?.output ?? []).flatMap((i) => (i.kind.case === "message" ? [i.kind.value] : []));
const reasonings = (r: Response | undefined): Reasoning[] => (r?.output ?? []).flatMap((i) => (i.kind.case === "reasoning" ? [i.kind.value] : []));
const textOf = (m: Message | undefined) =>
  m?.content.case === "parts" ? m.content.value.parts.map((p) => (p.kind.case === "outputText" ? p.kind.value.text : "")).join("") : "";

/** The requests the mock received, as they arrived. */
function recorder(mock: RunningMock): MockRequestEvent[] {
  const seen: MockRequestEvent[] = [];
  mock.mock.on("request", (e: MockRequestEvent) => seen.push(e));
  return seen;
}

async function collect(stream: AsyncIterable<StreamResponseResponse>) {
  const events: StreamResponseResponse["event"][] = [];
  for await (const e of stream) events.push(e.event);
  return events;
}

/** The second step: the first step's output plus a tool output per call. */
function followUp(first: Response, outputs: string[]): JsonObject {
  const items: JsonObject[] = [...CONVERSATION, ...first.output.map((i) => itemToJson(i))];
  calls(first).forEach((c, i) => items.push({ type: "function_call_output", call_id: c.callId, output: outputs[i] ?? "" }));
  return { input: items, tools: [WEATHER, TIME] };
}

describe.each(["responses", "chat_completions"] as const)("through the %s API", (api) => {
  let upstream: RunningMock;
  let model: RunningModel;
  let seen: MockRequestEvent[];
  beforeAll(async () => {
    upstream = await startMock({ knobs: { parallelToolCalls: true } });
    seen = recorder(upstream);
    model = await startModel(upstream.baseUrl, { api });
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  it("calls the offered tools in parallel, then answers from their outputs", async () => {
    const first = (await model.client.createResponse({ params: params({ input: CONVERSATION, tools: [WEATHER, TIME] }) }, { headers: { "x-request-id": "r1" } })).response!;
    expect(calls(first).map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ["get_weather", { city: "San Francisco" }],
      ["get_time", { zone: "example zone" }],
    ]);
    expect(new Set(calls(first).map((c) => c.callId)).size).toBe(2);
    expect(first.usage?.totalTokens).toBeGreaterThan(0);

    const second = (await model.client.createResponse({ params: params(followUp(first, ["cold", "noon"])) })).response!;
    expect(calls(second)).toEqual([]);
    expect(textOf(messages(second)[0])).toBe("Here is what the tool said: noon");
    expect(messages(second)[0]!.role).toBe(Role.ASSISTANT);

    if (api === "chat_completions") {
      // One assistant message carries both calls; each tool output is its own message.
      const body = seen.at(-1)!.body;
      expect((body.messages as JsonObject[]).map((m) => m.role)).toEqual(["developer", "user", "assistant", "tool", "tool"]);
      const assistant = (body.messages as JsonObject[])[2]!;
      expect((assistant.tool_calls as JsonObject[]).map((tc) => (tc.function as JsonObject).name)).toEqual(["get_weather", "get_time"]);
      expect((body.messages as JsonObject[])[4]).toEqual({ role: "tool", tool_call_id: calls(first)[1]!.callId, content: "noon" });
    }
  });

  it("streams item starts, argument and text deltas, finished items and the completed response", async () => {
    const events = await collect(model.client.streamResponse({ params: params({ input: CONVERSATION, tools: [WEATHER] }) }));
    expect(events[0]!.case).toBe("created");
    const completed = events.at(-1)!;
    expect(completed.case).toBe("completed");
    const response = completed.value as Response;
    const call = calls(response)[0]!;
    expect(call.name).toBe("get_weather");
    const added = events.find((e) => e.case === "outputItemAdded")!.value as { outputIndex: number; item: Item };
    expect(added.item.kind.case === "functionCall" && added.item.kind.value.name).toBe("get_weather");
    const args = events.flatMap((e) => (e.case === "argumentsDelta" && e.value.outputIndex === added.outputIndex ? [e.value.delta] : []));
    expect(args.length).toBeGreaterThan(1);
    expect(args.join("")).toBe(call.arguments);
    const done = events.filter((e) => e.case === "outputItemDone").map((e) => (e.value as { item: Item }).item);
    expect(done).toEqual(response.output);

    const answer = await collect(model.client.streamResponse({ params: params(followUp(response, ["cold"])) }));
    const final = answer.at(-1)!.value as Response;
    const text = answer.flatMap((e) => (e.case === "textDelta" ? [e.value.delta] : [])).join("");
    expect(text).toBe(textOf(messages(final)[0]));
    expect(text).toBe("Here is what the tool said: cold");
  });

  it("passes sampling settings and unknown fields through, and names the configured model", async () => {
    await model.client.createResponse({
      params: params({ input: "hi", model: "what-the-task-says", instructions: "Be brief.", temperature: 0.25, top_p: 0.5, max_output_tokens: 999, seed: 7, top_k: 20, store: false }),
    });
    const body = seen.at(-1)!.body;
    expect(body).toMatchObject({ model: "mock", temperature: 0.25, top_p: 0.5, seed: 7, top_k: 20 });
    if (api === "chat_completions") {
      expect(body.max_tokens).toBe(999);
      expect(body).not.toHaveProperty("max_output_tokens");
      expect(body).not.toHaveProperty("store");
      expect(body.messages).toEqual([
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ]);
    } else {
      expect(body).toMatchObject({ input: "hi", instructions: "Be brief.", max_output_tokens: 999, store: false });
    }
  });
});

describe("Chat Completions conversion", () => {
  let upstream: RunningMock;
  let model: RunningModel;
  let seen: MockRequestEvent[];
  beforeAll(async () => {
    upstream = await startMock();
    seen = recorder(upstream);
    model = await startModel(upstream.baseUrl, { api: "chat_completions" });
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  it("sends function tools and tool_choice in Chat Completions shape", async () => {
    await model.client.createResponse({ params: params({ input: CONVERSATION, tools: [WEATHER], tool_choice: { type: "function", name: "get_weather" }, parallel_tool_calls: false }) });
    const body = seen.at(-1)!.body;
    expect(body.tools).toEqual([
      {
        type: "function",
        function: { name: "get_weather", description: "Weather of a city", parameters: WEATHER.parameters, strict: true },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(body.parallel_tool_calls).toBe(false);
  });

  it("marks a response cut at max_output_tokens as incomplete", async () => {
    const { response } = await model.client.createResponse({ params: params({ input: "hi", max_output_tokens: 5 }) });
    expect(response?.status).toBe(ResponseStatus.INCOMPLETE);
    expect(responseToJson(response!).incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(textOf(messages(response)[0])).toBe("Hello");
  });

  it("refuses input it cannot express, naming the place", async () => {
    const bad = params({ input: [{ type: "web_search_call", id: "ws_1", status: "completed" }] });
    await expect(model.client.createResponse({ params: bad })).rejects.toMatchObject({
      code: 3, // INVALID_ARGUMENT
      rawMessage: expect.stringContaining('input[0]: item type "web_search_call"'),
    });
  });
});

describe.each([
  ["think_tags", "<think> text"],
  ["reasoning_content", "a reasoning_content field"],
] as const)("reasoning from %s (%s)", (mode, _shape) => {
  let upstream: RunningMock;
  let model: RunningModel;
  let seen: MockRequestEvent[];
  beforeAll(async () => {
    upstream = await startMock({ knobs: { reasoning: mode } });
    seen = recorder(upstream);
    model = await startModel(upstream.baseUrl, { api: "chat_completions" });
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  it("becomes a reasoning item before the answer, whole and streamed, and goes back as <think> text", async () => {
    const whole = (await model.client.createResponse({ params: params({ input: "tell me" }) })).response!;
    expect(whole.output.map((i) => i.kind.case)).toEqual(["reasoning", "message"]);
    expect(reasonings(whole)[0]!.summary).toEqual([expect.objectContaining({ text: "The user said: tell me. I will answer.", extraJson: "" })]);
    expect(itemToJson(whole.output[0]!).summary).toEqual([{ type: "summary_text", text: "The user said: tell me. I will answer." }]);
    expect(textOf(messages(whole)[0])).toBe("Hello from the mock model.");

    const events = await collect(model.client.streamResponse({ params: params({ input: "tell me" }) }));
    const streamed = events.at(-1)!.value as Response;
    expect(streamed.output.map((i) => i.kind.case)).toEqual(["reasoning", "message"]);
    expect(reasonings(streamed)[0]!.summary[0]!.text).toBe("The user said: tell me. I will answer.");
    const text = events.flatMap((e) => (e.case === "textDelta" ? [e.value.delta] : [])).join("");
    expect(text).toBe("Hello from the mock model.");

    await model.client.createResponse({ params: params({ input: [{ role: "user", content: "tell me" }, ...whole.output.map((i) => itemToJson(i))] }) });
    const history = (seen.at(-1)!.body.messages as JsonObject[]).at(-1)!;
    expect(history).toEqual({ role: "assistant", content: "<think>The user said: tell me. I will answer.</think>Hello from the mock model." });
  });
});

describe("token ids and logprobs (return_token_ids)", () => {
  let upstream: RunningMock;
  let model: RunningModel;
  let seen: MockRequestEvent[];
  beforeAll(async () => {
    upstream = await startMock();
    seen = recorder(upstream);
    model = await startModel(upstream.baseUrl, { api: "chat_completions", return_token_ids: true });
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  /** The token data the mock generated for its answer to `body`: prompt rendering, UTF-8 bytes, logprobs. */
  function expectTokens(item: FunctionCall | Message, body: JsonObject, generatedText: string) {
    const t = item.tokens!;
    expect(t).toBeDefined();
    expect(Buffer.from(t.promptTokenIds).toString("utf8")).toBe(renderPrompt(body));
    expect(Buffer.from(t.generationTokenIds).toString("utf8")).toBe(generatedText);
    expect(t.generationLogProbs).toEqual(t.generationTokenIds.map((id, i) => mockLogprob(id, i)));
  }

  it("asks vLLM for them and puts them on the turn's last item, whole and streamed", async () => {
    const first = (await model.client.createResponse({ params: params({ input: CONVERSATION, tools: [WEATHER] }) })).response!;
    const body = seen.at(-1)!.body;
    expect(body).toMatchObject({ logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true });
    const call = calls(first)[0]!;
    expectTokens(call, body, `get_weather${call.arguments}`);

    const events = await collect(model.client.streamResponse({ params: params(followUp(first, ["cold"])) }));
    const streamedBody = seen.at(-1)!.body;
    const final = events.at(-1)!.value as Response;
    expectTokens(messages(final)[0]!, streamedBody, "Here is what the tool said: cold");
    // The earlier turn's tokens go back on its assistant message, as NeMo Gym sends them.
    const assistant = (streamedBody.messages as JsonObject[]).find((m) => m.role === "assistant")!;
    expect(assistant.generation_token_ids).toEqual([...call.tokens!.generationTokenIds]);
    expect(assistant.prompt_token_ids).toEqual([...call.tokens!.promptTokenIds]);
  });

  it("writes them flat under NeMo Gym's names in JSON", async () => {
    const { response } = await model.client.createResponse({ params: params({ input: "hi" }) });
    const item = responseToJson(response!).output as JsonObject[];
    expect(Object.keys(item[0]!)).toEqual(expect.arrayContaining(["prompt_token_ids", "generation_token_ids", "generation_log_probs"]));
    expect(Buffer.from(item[0]!.generation_token_ids as number[]).toString()).toBe("Hello from the mock model.");
  });

  it("fails with FAILED_PRECONDITION when the backend does not return them", async () => {
    // A server without vLLM's token-id extensions: logprobs, but no prompt ids.
    const old = await startModel(upstream.baseUrl, { api: "chat_completions", return_token_ids: true, headers: { "x-mock-knobs": '{"token_ids": false}' } });
    try {
      await expect(old.client.createResponse({ params: params({ input: "hi" }) })).rejects.toMatchObject({
        code: 9, // FAILED_PRECONDITION
        rawMessage: expect.stringContaining("policy: the backend returned no prompt_token_ids"),
      });
    } finally {
      await old.close();
    }
  });
});

describe("the mock's tool_turns knob", () => {
  it("calls a tool for that many turns, then answers", async () => {
    const upstream = await startMock({ knobs: { toolTurns: 3 } });
    const model = await startModel(upstream.baseUrl, { api: "chat_completions" });
    try {
      const input: JsonObject[] = [{ role: "user", content: "weather?" }];
      const kinds: string[] = [];
      for (let step = 0; step < 5; step++) {
        const { response } = await model.client.createResponse({ params: params({ input, tools: [WEATHER] }) });
        const call = calls(response)[0];
        kinds.push(call ? "call" : "text");
        if (!call) break;
        input.push(itemToJson(response!.output[0]!), { type: "function_call_output", call_id: call.callId, output: `out ${step}` });
      }
      expect(kinds).toEqual(["call", "call", "call", "text"]);
    } finally {
      await model.close();
      await upstream.server.close();
    }
  });
});
