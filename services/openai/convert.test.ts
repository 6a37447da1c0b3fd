// The conversions between the Responses API and Chat Completions, checked
// against hand-written requests and answers in each API's documented shape,
// plus `<think>` splitting across stream deltas and the retry timing rules.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { chatCompletionFromResponse, paramsFromChatRequest } from "./chat-face.js";
import type { ModelEvent } from "./backend.js";
import { chatRequestFromParams } from "./chat-request.js";
import { ChatAssembler, responseFromChatCompletion } from "./chat-response.js";
import { backoffMs } from "../mesh/backoff.js";
import { retryAfterMs } from "../model/retry-policy.js";
import { splitThink, ThinkSplitter } from "./think-tags.js";

const id = expect.any(String);

describe("Responses request -> Chat Completions request", () => {
  it("turns a whole conversation into messages, tools and settings", () => {
    const params: JsonObject = {
      model: null,
      instructions: "Be brief.",
      input: [
        { type: "message", role: "developer", content: "You help with weather." },
        {
          role: "user",
          content: [
            { type: "input_text", text: "Here is a photo." },
            { type: "input_image", image_url: "https://example.com/sky.png", detail: "low" },
          ],
        },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Need two cities." }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking.", annotations: [] }] },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: '{"city":"SF"}' },
        { type: "function_call", id: "fc_2", call_id: "call_2", name: "get_weather", arguments: '{"city":"LA"}' },
        { type: "function_call_output", call_id: "call_1", output: "cold" },
        { type: "function_call_output", call_id: "call_2", output: "warm" },
      ],
      tools: [{ type: "function", name: "get_weather", description: null, parameters: { type: "object" }, strict: true }],
      tool_choice: "required",
      parallel_tool_calls: true,
      temperature: 0.7,
      top_p: 0.9,
      max_output_tokens: 64,
      reasoning: { effort: "low", summary: null },
      text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true } },
      store: true,
      include: null,
      seed: 3,
      top_k: 40,
    };
    expect(chatRequestFromParams(params, { returnTokenIds: false })).toEqual({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: "You help with weather." },
        {
          role: "user",
          content: [
            { type: "text", text: "Here is a photo." },
            { type: "image_url", image_url: { url: "https://example.com/sky.png", detail: "low" } },
          ],
        },
        {
          role: "assistant",
          content: "<think>Need two cities.</think>Checking.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"SF"}' } },
            { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"LA"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "cold" },
        { role: "tool", tool_call_id: "call_2", content: "warm" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" }, strict: true } }],
      tool_choice: "required",
      parallel_tool_calls: true,
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 64,
      reasoning_effort: "low",
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
      seed: 3,
      top_k: 40,
    });
  });

  it("asks for token data and sends earlier turns' token data back when training", () => {
    const tokens = { prompt_token_ids: [1, 2], generation_token_ids: [3], generation_log_probs: [-0.5] };
    const request = chatRequestFromParams(
      { input: [{ role: "user", content: "hi" }, { type: "message", role: "assistant", content: [{ type: "output_text", text: "yo" }], ...tokens }, { role: "user", content: "again" }] },
      { returnTokenIds: true },
    );
    expect(request).toMatchObject({ logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true });
    expect((request.messages as JsonObject[])[1]).toEqual({ role: "assistant", content: "yo", ...tokens });
    const plain = chatRequestFromParams({ input: [{ type: "message", role: "assistant", content: "yo", ...tokens }] }, { returnTokenIds: false });
    expect((plain.messages as JsonObject[])[0]).toEqual({ role: "assistant", content: "yo" });
  });

  it("drops tool settings without tools, and refuses what Chat Completions cannot do", () => {
    expect(chatRequestFromParams({ input: "hi", tools: [], tool_choice: "auto", parallel_tool_calls: false }, { returnTokenIds: false })).toEqual({
      messages: [{ role: "user", content: "hi" }],
    });
    const refused = (p: JsonObject, message: RegExp) => {
      expect(() => chatRequestFromParams(p, { returnTokenIds: false })).toThrow(message);
      try {
        chatRequestFromParams(p, { returnTokenIds: false });
      } catch (err) {
        expect((err as { code: Code }).code).toBe(Code.InvalidArgument);
      }
    };
    refused({ input: "hi", tool_choice: "required" }, /tool_choice: "required" needs at least one tool/);
    refused({ input: "hi", previous_response_id: "resp_1" }, /previous_response_id: needs a backend that keeps conversations/);
    refused({ input: "hi", tools: [{ type: "web_search" }] }, /tools\[0\]: tool type "web_search" cannot be sent/);
    refused({ input: [{ role: "user", content: [{ type: "input_image", file_id: "f1" }] }] }, /input\[0\]\.content\[0\]: only images given by image_url/);
  });
});

const COMPLETION: JsonObject = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "qwen3",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        reasoning_content: "Two cities, two calls.",
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"SF"}' } },
          { id: "call_b", type: "function", function: { name: "get_weather", arguments: '{"city":"LA"}' } },
        ],
      },
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, completion_tokens_details: { reasoning_tokens: 6 } },
};

describe("Chat Completions answer -> Response", () => {
  const options = (params: JsonObject = {}) => ({ backend: "m", thinkTags: true, returnTokenIds: false, params });

  it("makes reasoning, parallel function calls and usage into Responses items", () => {
    expect(responseFromChatCompletion(COMPLETION, options({ temperature: 0.5, tools: [{ type: "function", name: "get_weather" }] }))).toEqual({
      id: "resp_chatcmpl-1",
      object: "response",
      created_at: 1700000000,
      model: "qwen3",
      status: "completed",
      output: [
        { type: "reasoning", id, summary: [{ type: "summary_text", text: "Two cities, two calls." }], status: "completed" },
        { type: "function_call", id: "fc_call_a", call_id: "call_a", name: "get_weather", arguments: '{"city":"SF"}', status: "completed" },
        { type: "function_call", id: "fc_call_b", call_id: "call_b", name: "get_weather", arguments: '{"city":"LA"}', status: "completed" },
      ],
      usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 6 }, total_tokens: 70 },
      temperature: 0.5,
      tools: [{ type: "function", name: "get_weather" }],
      // Always on a Response: OpenAI's defaults when the request has none.
      parallel_tool_calls: true,
      tool_choice: "auto",
    });
  });

  it("reads <think> text as reasoning and keeps the rest as the message", () => {
    const completion = { ...COMPLETION, choices: [{ index: 0, message: { role: "assistant", content: "<think>Easy.</think>\n\nIt is 4." }, finish_reason: "length" }] };
    const r = responseFromChatCompletion(completion, options());
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(r.output).toEqual([
      { type: "reasoning", id, summary: [{ type: "summary_text", text: "Easy." }], status: "completed" },
      { type: "message", id, role: "assistant", status: "incomplete", content: [{ type: "output_text", text: "\n\nIt is 4.", annotations: [] }] },
    ]);
    expect(responseFromChatCompletion(completion, { ...options(), thinkTags: false }).output).toEqual([
      expect.objectContaining({ type: "message", content: [{ type: "output_text", text: "<think>Easy.</think>\n\nIt is 4.", annotations: [] }] }),
    ]);
  });

  it("builds the same response from a stream cut anywhere as from the whole answer", () => {
    const text = "<think>Let me see.</think>The answer is 42.";
    for (let size = 1; size <= 8; size++) {
      const assembler = new ChatAssembler(options());
      const events: ModelEvent[] = [];
      for (let i = 0; i < text.length; i += size) {
        events.push(...assembler.chunk({ id: "c", created: 1, model: "m", choices: [{ index: 0, delta: { content: text.slice(i, i + size) } }] }));
      }
      events.push(...assembler.chunk({ id: "c", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }));
      events.push(...assembler.finish());
      const final = (events.at(-1) as { response: JsonObject }).response;
      expect((final.output as JsonObject[]).map((o) => o.type)).toEqual(["reasoning", "message"]);
      const deltas = events.flatMap((e) => (e.type === "text_delta" ? [e.delta] : [])).join("");
      expect(deltas).toBe("The answer is 42.");
      expect(((final.output as JsonObject[])[0]!.summary as JsonObject[])[0]!.text).toBe("Let me see.");
      expect(events[0]!.type).toBe("created");
    }
  });

  it("says when asked-for token data is missing or inconsistent", () => {
    const training = { ...options(), returnTokenIds: true };
    expect(() => responseFromChatCompletion(COMPLETION, training)).toThrow(/returned no prompt_token_ids/);
    const mismatched = {
      ...COMPLETION,
      prompt_token_ids: [1, 2],
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop", token_ids: [5, 6], logprobs: { content: [{ token: "token_id:5", logprob: -1 }] } }],
    };
    expect(() => responseFromChatCompletion(mismatched, training)).toThrow("m: the backend returned 2 generated token ids but 1 logprobs");
  });
});

describe("the Chat Completions face", () => {
  it("turns a chat request into a Responses request", () => {
    expect(
      paramsFromChatRequest({
        model: "m",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: [{ type: "text", text: "weather?" }] },
          { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "w", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "c1", content: "cold" },
        ],
        tools: [{ type: "function", function: { name: "w", parameters: { type: "object" } } }],
        tool_choice: { type: "function", function: { name: "w" } },
        max_tokens: 10,
        response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } },
        stream: true,
        seed: 1,
      }),
    ).toEqual({
      model: "m",
      input: [
        { type: "message", role: "system", content: "Be brief." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "weather?" }] },
        { type: "function_call", call_id: "c1", name: "w", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "cold" },
      ],
      tools: [{ type: "function", name: "w", parameters: { type: "object" } }],
      tool_choice: { type: "function", name: "w" },
      max_output_tokens: 10,
      text: { format: { type: "json_schema", name: "x", schema: {} } },
      seed: 1,
    });
  });

  it("turns a Response into a chat completion", () => {
    const response = responseFromChatCompletion(COMPLETION, { backend: "m", thinkTags: true, returnTokenIds: false, params: {} });
    expect(chatCompletionFromResponse(response)).toEqual({
      id: "resp_chatcmpl-1",
      object: "chat.completion",
      created: 1700000000,
      model: "qwen3",
      choices: [{ index: 0, message: { role: "assistant", content: null, reasoning_content: "Two cities, two calls.", tool_calls: ((COMPLETION.choices as JsonObject[])[0]!.message as JsonObject).tool_calls }, logprobs: null, finish_reason: "tool_calls" }],
      usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 6 } },
    });
  });
});

describe("ThinkSplitter", () => {
  it("finds tags cut across deltas, and holds back only what could be a tag", () => {
    const s = new ThinkSplitter(true);
    expect(s.push("Hi <th")).toEqual([{ kind: "text", text: "Hi " }]);
    expect(s.push("ink>a</thi")).toEqual([
      { kind: "open", text: "" },
      { kind: "reasoning", text: "a" },
    ]);
    expect(s.push("nk> b < c")).toEqual([{ kind: "text", text: " b < c" }]);
    expect(s.end()).toEqual([]);
    expect(splitThink("<think>unfinished", true)).toEqual({ reasoning: ["unfinished"], text: "" });
    expect(splitThink("a<think>x</think>b<think>y</think>c", true)).toEqual({ reasoning: ["x", "y"], text: "abc" });
    expect(splitThink("<think>x</think>", false)).toEqual({ reasoning: [], text: "<think>x</think>" });
  });
});

describe("retry timing", () => {
  const policy = { maxAttempts: 5, baseMs: 100, maxMs: 1000 };

  it("backs off exponentially, with jitter in the upper half, up to the cap", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000]);
  });

  it("reads Retry-After in seconds, as a date, and retry-after-ms", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "3" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});
