// The OpenAI-compatible HTTP face of a model instance, with the official
// `openai` SDK as the client (streaming included), in front of a real
// upstream server (the mock) through both upstream APIs.
import { once } from "node:events";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setQuiet } from "../mesh/log.js";
import { startMock, startModel, type RunningMock, type RunningModel } from "../../testing/model-kit.js";

setQuiet(true);

const WEATHER_TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};
const CHAT_WEATHER_TOOL = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather of a city", parameters: WEATHER_TOOL.parameters },
};

function sdk(model: RunningModel): OpenAI {
  return new OpenAI({ baseURL: `${model.server.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
}

describe.each(["responses", "chat_completions"] as const)("the HTTP face over a %s upstream", (api) => {
  let upstream: RunningMock;
  let model: RunningModel;
  let client: OpenAI;
  beforeAll(async () => {
    upstream = await startMock();
    model = await startModel(upstream.baseUrl, { api });
    client = sdk(model);
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  it("lists its model", async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(["mock"]);
  });

  it("answers POST /v1/responses: a tool call, then text from the tool output", async () => {
    const first = await client.responses.create({ model: "mock", input: "weather in sf?", tools: [WEATHER_TOOL] });
    const call = first.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", arguments: '{"city":"San Francisco"}' });
    if (call?.type !== "function_call") throw new Error("no call");
    const second = await client.responses.create({
      model: "mock",
      input: [{ role: "user", content: "weather in sf?" }, call, { type: "function_call_output", call_id: call.call_id, output: "cold" }],
      tools: [WEATHER_TOOL],
    });
    expect(second.output_text).toBe("Here is what the tool said: cold");
    expect(second.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams POST /v1/responses so the SDK rebuilds the response", async () => {
    const stream = client.responses.stream({ model: "mock", input: "weather in sf?", tools: [WEATHER_TOOL] });
    const types: string[] = [];
    let args = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.function_call_arguments.delta") args += event.delta;
    }
    const final = await stream.finalResponse();
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_item.added");
    const call = final.output.find((o) => o.type === "function_call");
    expect(call?.type === "function_call" && call.arguments).toBe(args);
    expect(args).toBe('{"city":"San Francisco"}');

    const text = client.responses.stream({ model: "mock", input: "hi" });
    let deltas = "";
    for await (const event of text) if (event.type === "response.output_text.delta") deltas += event.delta;
    expect(deltas).toBe("Hello from the mock model.");
    expect((await text.finalResponse()).output_text).toBe(deltas);
  });

  it("answers POST /v1/chat/completions with tool calls, then text", async () => {
    const first = await client.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "weather in sf?" }], tools: [CHAT_WEATHER_TOOL] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls![0]!;
    expect(call.type === "function" && call.function).toEqual({ name: "get_weather", arguments: '{"city":"San Francisco"}' });
    const second = await client.chat.completions.create({
      model: "mock",
      messages: [{ role: "user", content: "weather in sf?" }, choice.message, { role: "tool", tool_call_id: call.id, content: "cold" }],
      tools: [CHAT_WEATHER_TOOL],
    });
    expect(second.choices[0]!.message.content).toBe("Here is what the tool said: cold");
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams POST /v1/chat/completions so the SDK rebuilds the completion, usage included", async () => {
    const stream = client.chat.completions.stream({
      model: "mock",
      messages: [{ role: "user", content: "weather in sf?" }],
      tools: [CHAT_WEATHER_TOOL],
      stream_options: { include_usage: true },
    });
    let chunks = 0;
    for await (const _ of stream) chunks++;
    const final = await stream.finalChatCompletion();
    expect(chunks).toBeGreaterThan(2);
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_weather");
    expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "San Francisco" });
    expect(final.usage?.total_tokens).toBeGreaterThan(0);

    const text = await client.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }], stream: true });
    let content = "";
    for await (const chunk of text) content += chunk.choices[0]?.delta.content ?? "";
    expect(content).toBe("Hello from the mock model.");
  });

  it("answers bad requests with 400 and unknown routes with 404, in OpenAI's error shape", async () => {
    await expect(client.responses.create({ model: "mock", input: 5 as never })).rejects.toMatchObject({ status: 400, message: expect.stringContaining("input") });
    await expect(client.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }], n: 2 })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("n must be 1"),
    });
    await expect(client.embeddings.create({ model: "mock", input: "x" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("the HTTP face's errors and cancellation", () => {
  it("maps upstream failures to the fitting status: 429 stays 429, an exhausted 500 becomes 503", async () => {
    const limited = await startMock({ knobs: { errorRate: 1, errorStatus: 429 } });
    const broken = await startMock({ knobs: { errorRate: 1, errorStatus: 500 } });
    const a = await startModel(limited.baseUrl, { max_attempts: 1 });
    const b = await startModel(broken.baseUrl, { max_attempts: 2, retry_base_s: 0.001 });
    try {
      await expect(sdk(a).responses.create({ model: "mock", input: "hi" })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      const err = await sdk(b).chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 503, message: expect.stringContaining("(after 2 attempts)") });
      expect(broken.mock.stats.requests).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([limited.server.close(), broken.server.close()]);
    }
  });

  it("aborts the upstream request when the HTTP client goes away", async () => {
    const upstream = await startMock({ knobs: { stallRate: 1 } });
    const model = await startModel(upstream.baseUrl);
    try {
      const controller = new AbortController();
      const arrived = once(upstream.mock, "request");
      const aborted = once(upstream.mock, "aborted");
      const pending = sdk(model).responses.create({ model: "mock", input: "hi" }, { signal: controller.signal }).catch((e: unknown) => e);
      await arrived;
      controller.abort();
      expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
      await aborted;
      expect(upstream.mock.stats.aborted).toBe(1);
    } finally {
      await model.close();
      await upstream.server.close();
    }
  });
});

describe("token data on the HTTP face (return_token_ids)", () => {
  let upstream: RunningMock;
  let model: RunningModel;
  beforeAll(async () => {
    upstream = await startMock();
    model = await startModel(upstream.baseUrl, { api: "chat_completions", return_token_ids: true });
  });
  afterAll(async () => {
    await model?.close();
    await upstream?.server.close();
  });

  it("puts NeMo Gym's token fields on the output item and on the chat message", async () => {
    const response = (await sdk(model).responses.create({ model: "mock", input: "hi" })) as unknown as { output: Record<string, unknown>[] };
    const item = response.output[0]!;
    expect(Buffer.from(item.generation_token_ids as number[]).toString()).toBe("Hello from the mock model.");
    expect((item.prompt_token_ids as number[]).length).toBeGreaterThan(0);
    expect((item.generation_log_probs as number[]).length).toBe((item.generation_token_ids as number[]).length);

    const chat = await sdk(model).chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }] });
    const message = chat.choices[0]!.message as unknown as Record<string, unknown>;
    expect(Buffer.from(message.generation_token_ids as number[]).toString()).toBe("Hello from the mock model.");
    expect(message).toHaveProperty("prompt_token_ids");
    expect(message).toHaveProperty("generation_log_probs");
  });
});

describe("one model instance in front of another's HTTP face", () => {
  it("works through both APIs: the face speaks what the bridge expects", async () => {
    const upstream = await startMock({ knobs: { reasoning: "reasoning_content" } });
    const inner = await startModel(upstream.baseUrl, { api: "chat_completions" });
    const outerResponses = await startModel(`${inner.server.url}/v1`, { api: "responses" });
    const outerChat = await startModel(`${inner.server.url}/v1`, { api: "chat_completions" });
    try {
      for (const outer of [outerResponses, outerChat]) {
        const { response } = await outer.client.createResponse({ params: { input: { case: "inputText", value: "hi" } } });
        expect(response?.output.map((i) => i.kind.case)).toEqual(["reasoning", "message"]);
        const events = [];
        for await (const e of outer.client.streamResponse({ params: { input: { case: "inputText", value: "hi" } } })) events.push(e.event);
        expect(events[0]!.case).toBe("created");
        expect(events.map((e) => e.case)).toContain("textDelta");
        const streamed = events.at(-1)!;
        expect(streamed.case === "completed" && streamed.value.output.map((i) => i.kind.case)).toEqual(["reasoning", "message"]);
      }
    } finally {
      await Promise.all([outerResponses.close(), outerChat.close()]);
      await inner.close();
      await upstream.server.close();
    }
  });
});
