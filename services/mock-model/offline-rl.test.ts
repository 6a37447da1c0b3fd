// Offline RL realism in the mock: seeded draws that skip the tools or answer
// wrong (reproducible per seed and conversation), their knobs in the config
// and in the x-mock-knobs header, and token ids on the Responses API.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runSimpleAgent } from "../agent/simple-agent.js";
import { loadConfig } from "../app/config.js";
import { lastAssistantText } from "../openai/response-text.js";
import { taskFromJson } from "../openai/responses-json.js";
import { defineEnvironment, defineTool, taskFields } from "../resources/environment.js";
import { hostClient } from "../resources/verify-cases.js";
import { setQuiet } from "../mesh/log.js";
import { startMock, startModel, type RunningMock } from "../../testing/model-kit.js";
import { DEFAULT_KNOBS, knobsFromHeader, type MockKnobs } from "./faults.js";
import { fnv1a32, mulberry32, requestSeed, scriptDraws, WRONG_ANSWER } from "./random.js";
import { scriptedChatTurn, scriptedResponse } from "./script.js";
import { mockLogprob, promptTokenIds } from "./tokens.js";

setQuiet(true);

const WEATHER = { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const knobs = (k: Partial<MockKnobs>): MockKnobs => ({ ...DEFAULT_KNOBS, ...k });
/** A Responses request of one task, seeded as --num-repeats-add-seed seeds it. */
const seeded = (seed: number, user = "what's it like in sf?"): JsonObject => ({
  input: [{ role: "user", content: user }],
  tools: [WEATHER],
  metadata: { extra_body: JSON.stringify({ seed }) },
});
/** What the scripted answer did: "tool", "right" (text) or "wrong" (text). */
function kindOf(response: JsonObject): string {
  const output = response.output as JsonObject[];
  if (output.some((o) => o.type === "function_call")) return "tool";
  const text = ((output.at(-1)!.content as JsonObject[])[0] as JsonObject).text;
  return text === WRONG_ANSWER ? "wrong" : "right";
}

describe("the PRNG", () => {
  it("is FNV-1a (32-bit) into mulberry32", () => {
    // FNV-1a's published test vectors.
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 100 }, () => a());
    expect(draws).toEqual(Array.from({ length: 100 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(draws).size).toBe(100);
  });

  it("draws the same for the same seed and conversation, and independently of the rates", () => {
    const rates = { skipToolRate: 0.5, wrongAnswerRate: 0.5 };
    expect(scriptDraws(7, ["user: hi"], rates)).toEqual(scriptDraws(7, ["user: hi"], rates));
    // Each draw is a threshold on a fixed uniform: raising one rate never flips a decision the other way.
    for (let seed = 0; seed < 50; seed++) {
      const low = scriptDraws(seed, ["user: hi"], { skipToolRate: 0.2, wrongAnswerRate: 0.2 });
      const high = scriptDraws(seed, ["user: hi"], { skipToolRate: 0.6, wrongAnswerRate: 0.2 });
      if (low.skipTool) expect(high.skipTool).toBe(true);
      expect(high.wrongAnswer).toBe(low.wrongAnswer);
    }
  });
});

describe("the request's seed", () => {
  it("comes from metadata.extra_body (JSON text), else a top-level seed", () => {
    expect(requestSeed({ metadata: { extra_body: '{"seed": 3, "min_tokens": 1}' } })).toBe(3);
    expect(requestSeed({ seed: 5 })).toBe(5);
    expect(requestSeed({ seed: 5, metadata: { extra_body: '{"seed": 3}' } })).toBe(3);
    expect(requestSeed({ seed: 5, metadata: { extra_body: "{}" } })).toBe(5);
    expect(requestSeed({ seed: 5, metadata: { extra_body: "not json" } })).toBe(5);
    expect(requestSeed({ metadata: { other: "x" } })).toBeUndefined();
    expect(requestSeed({})).toBeUndefined();
  });
});

describe("seeded draws in the script", () => {
  const rates = knobs({ skipToolRate: 0.3, wrongAnswerRate: 0.3 });

  it("answers the same request with the same seed the same way, and differently across seeds", () => {
    const kinds = Array.from({ length: 40 }, (_, seed) => kindOf(scriptedResponse(seeded(seed), rates)));
    expect(Array.from({ length: 40 }, (_, seed) => kindOf(scriptedResponse(seeded(seed), rates)))).toEqual(kinds);
    // A skipped tool gives a text answer (wrong too, at times).
    expect(new Set(kinds)).toEqual(new Set(["tool", "right", "wrong"]));
    // The tool call itself is the same each time (its call id aside).
    const call = (seed: number) => (scriptedResponse(seeded(seed), rates).output as JsonObject[]).map(({ name, arguments: a, type }) => ({ name, a, type }));
    const tool = kinds.indexOf("tool");
    expect(call(tool)).toEqual(call(tool));
  });

  it("honours the rates over many requests (1000 seeds, rate 0.3: between 0.2 and 0.4)", () => {
    let skipped = 0;
    let wrong = 0;
    for (let seed = 0; seed < 1000; seed++) {
      if (kindOf(scriptedResponse(seeded(seed), rates)) !== "tool") skipped++;
      // The answer turn: after the tool's output.
      const answer = scriptedResponse(
        { ...seeded(seed), input: [...(seeded(seed).input as JsonObject[]), { type: "function_call", call_id: "c", name: "get_weather", arguments: "{}" }, { type: "function_call_output", call_id: "c", output: "cold" }] },
        rates,
      );
      if (kindOf(answer) === "wrong") wrong++;
    }
    expect(skipped / 1000).toBeGreaterThan(0.2);
    expect(skipped / 1000).toBeLessThan(0.4);
    expect(wrong / 1000).toBeGreaterThan(0.2);
    expect(wrong / 1000).toBeLessThan(0.4);
  });

  it("draws once per conversation: every turn of a rollout decides alike, another conversation differently", () => {
    const wrongEverywhere = knobs({ wrongAnswerRate: 0.5 });
    const afterTool = (seed: number, output: string) =>
      scriptedResponse(
        { ...seeded(seed), input: [...(seeded(seed).input as JsonObject[]), { type: "function_call", call_id: "c", name: "get_weather", arguments: "{}" }, { type: "function_call_output", call_id: "c", output }] },
        wrongEverywhere,
      );
    for (let seed = 0; seed < 20; seed++) expect(kindOf(afterTool(seed, "cold"))).toBe(kindOf(afterTool(seed, "warm")));
    const a = Array.from({ length: 40 }, (_, seed) => kindOf(scriptedResponse(seeded(seed, "weather in sf?"), rates)));
    const b = Array.from({ length: 40 }, (_, seed) => kindOf(scriptedResponse(seeded(seed, "weather in nyc?"), rates)));
    expect(a).not.toEqual(b);
  });

  it("uses the seed knob when the request has none; a forced tool_choice is obeyed", () => {
    const always = (seed: number) => kindOf(scriptedResponse({ input: "weather?", tools: [WEATHER] }, knobs({ skipToolRate: 0.5, seed })));
    const bySeed = Array.from({ length: 30 }, (_, seed) => always(seed));
    expect(new Set(bySeed)).toEqual(new Set(["tool", "right"]));
    expect(kindOf(scriptedResponse({ input: "weather?", tools: [WEATHER] }, knobs({ skipToolRate: 0.5, seed: 4 })))).toBe(bySeed[4]);
    for (const tool_choice of ["required", { type: "function", name: "get_weather" }]) {
      expect(kindOf(scriptedResponse({ input: "weather?", tools: [WEATHER], tool_choice }, knobs({ skipToolRate: 1 })))).toBe("tool");
    }
  });

  it("decides alike on both APIs for the same conversation and seed", () => {
    for (let seed = 0; seed < 30; seed++) {
      const responses = kindOf(scriptedResponse(seeded(seed), rates));
      const chat = scriptedChatTurn(
        {
          messages: [{ role: "user", content: "what's it like in sf?" }],
          tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER.parameters } }],
          metadata: { extra_body: JSON.stringify({ seed }) },
        },
        rates,
      );
      expect(chat.toolCalls.length > 0 ? "tool" : chat.text === WRONG_ANSWER ? "wrong" : "right").toBe(responses);
    }
  });

  it("leaves the default answers alone (rates 0)", () => {
    for (let seed = 0; seed < 20; seed++) expect(kindOf(scriptedResponse(seeded(seed), DEFAULT_KNOBS))).toBe("tool");
  });
});

describe("the knobs", () => {
  it("are in the mock_model config, defaults 0, rates between 0 and 1", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-mock-rl-"));
    const write = (extra: string) => {
      const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.yaml`);
      fs.writeFileSync(file, `instances:\n  m:\n    kind: mock_model\n${extra}`);
      return file;
    };
    expect(loadConfig(write(""), {}).instances.m).toMatchObject({ skip_tool_rate: 0, wrong_answer_rate: 0, seed: 0 });
    expect(loadConfig(write("    skip_tool_rate: 0.5\n    wrong_answer_rate: 0.25\n    seed: 9\n"), {}).instances.m).toMatchObject({
      skip_tool_rate: 0.5,
      wrong_answer_rate: 0.25,
      seed: 9,
    });
    expect(() => loadConfig(write("    skip_tool_rate: 1.5\n"), {})).toThrow(/instances\.m\.skip_tool_rate/);
    expect(() => loadConfig(write("    seed: 0.5\n"), {})).toThrow(/instances\.m\.seed/);
  });

  it("have the config's names in the x-mock-knobs header, checked", () => {
    expect(knobsFromHeader('{"skip_tool_rate": 0.5, "wrong_answer_rate": 1, "seed": 3}', DEFAULT_KNOBS)).toMatchObject({ skipToolRate: 0.5, wrongAnswerRate: 1, seed: 3 });
    expect(() => knobsFromHeader('{"skip_tool_rate": 2}', DEFAULT_KNOBS)).toThrow("skip_tool_rate must be between 0 and 1");
    expect(() => knobsFromHeader('{"wrong_answer_rate": "0.5"}', DEFAULT_KNOBS)).toThrow("wrong_answer_rate has the wrong type");
    expect(() => knobsFromHeader('{"seed": 1.5}', DEFAULT_KNOBS)).toThrow("seed must be an integer");
    expect(() => knobsFromHeader('{"skip_tools": 1}', DEFAULT_KNOBS)).toThrow(/unknown knob "skip_tools" \(known: .*skip_tool_rate, wrong_answer_rate, seed/);
  });
});

describe("over HTTP (the official SDK as the client)", () => {
  let upstream: RunningMock;
  beforeAll(async () => {
    upstream = await startMock({ knobs: { skipToolRate: 0.5, wrongAnswerRate: 0.5 } });
  });
  afterAll(async () => {
    await upstream?.server.close();
  });
  const client = (knobsHeader?: string) =>
    new OpenAI({ baseURL: upstream.baseUrl, apiKey: "x", maxRetries: 0, defaultHeaders: knobsHeader ? { "x-mock-knobs": knobsHeader } : {} });
  const ask = async (seed: number, header?: string) =>
    kindOf((await client(header).responses.create({ model: "mock", ...seeded(seed) } as never)) as unknown as JsonObject);

  it("answers a rerun identically and repeats with other seeds differently", async () => {
    const first = await Promise.all(Array.from({ length: 16 }, (_, seed) => ask(seed)));
    const again = await Promise.all(Array.from({ length: 16 }, (_, seed) => ask(seed)));
    expect(again).toEqual(first);
    expect(new Set(first)).toEqual(new Set(["tool", "right", "wrong"]));
  });

  it("takes Chat Completions' own seed field", async () => {
    const chat = async (seed: number) => {
      const c = await client().chat.completions.create({
        model: "mock",
        seed,
        messages: [{ role: "user", content: "weather?" }],
        tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER.parameters } }],
      });
      return c.choices[0]!.message.tool_calls?.length ? "tool" : "text";
    };
    const kinds = await Promise.all(Array.from({ length: 16 }, (_, seed) => chat(seed)));
    expect(await Promise.all(Array.from({ length: 16 }, (_, seed) => chat(seed)))).toEqual(kinds);
    expect(new Set(kinds)).toEqual(new Set(["tool", "text"]));
  });

  it("lets the header set the rates and the seed for one request", async () => {
    expect(await ask(0, '{"skip_tool_rate": 1, "wrong_answer_rate": 0}')).toBe("right");
    expect(await ask(0, '{"skip_tool_rate": 1, "wrong_answer_rate": 1}')).toBe("wrong");
    expect(await ask(0, '{"skip_tool_rate": 0}')).toBe("tool");
    await expect(client('{"skip_tool_rate": -1}').responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({ status: 400 });
    await expect(client('{"skip_tools": 1}').responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('unknown knob "skip_tools"'),
    });
  });
});

describe("token ids on the Responses API (return_token_ids: true)", () => {
  let upstream: RunningMock;
  beforeAll(async () => {
    upstream = await startMock();
  });
  afterAll(async () => {
    await upstream?.server.close();
  });
  const sdk = (header?: string) => new OpenAI({ baseURL: upstream.baseUrl, apiKey: "x", maxRetries: 0, defaultHeaders: header ? { "x-mock-knobs": header } : {} });
  const create = async (body: JsonObject, header?: string) => (await sdk(header).responses.create({ model: "mock", ...body } as never)) as unknown as JsonObject;

  it("puts them on the last output item, prompts extending each other across turns", async () => {
    const input: JsonObject[] = [{ role: "developer", content: "Be brief." }, { role: "user", content: "what's it like in sf?" }];
    const first = await create({ input, tools: [WEATHER], return_token_ids: true });
    const call = (first.output as JsonObject[]).at(-1)!;
    expect(call.type).toBe("function_call");
    const gen1 = call.generation_token_ids as number[];
    expect(Buffer.from(gen1).toString()).toBe(`get_weather${String(call.arguments)}`);
    expect(call.generation_log_probs).toEqual(gen1.map((id, i) => mockLogprob(id, i)));
    const prompt1 = call.prompt_token_ids as number[];
    expect(Buffer.from(prompt1).toString()).toMatch(/^<\|tools\|>.*\n<\|developer\|>Be brief\.\n<\|user\|>what's it like in sf\?\n<\|assistant\|>$/);
    expect(first.usage).toMatchObject({ input_tokens: prompt1.length, output_tokens: gen1.length });

    // The next turn, as the agent sends it: token fields gone from the items.
    const { prompt_token_ids: _p, generation_token_ids: _g, generation_log_probs: _l, ...plainCall } = call;
    const next = [...input, plainCall, { type: "function_call_output", call_id: call.call_id, output: "cold" }];
    const second = await create({ input: next, tools: [WEATHER], return_token_ids: true });
    const answer = (second.output as JsonObject[]).at(-1)!;
    const prompt2 = answer.prompt_token_ids as number[];
    expect(prompt2.slice(0, prompt1.length + gen1.length)).toEqual([...prompt1, ...gen1]);
    expect(Buffer.from(prompt2).toString()).toContain(`[${String(call.call_id)}] cold`);
    expect(Buffer.from(answer.generation_token_ids as number[]).toString()).toBe("Here is what the tool said: cold");
  });

  it("renders reasoning items as <think> text, in the prompt as in the generation", async () => {
    const header = '{"reasoning": "reasoning_content"}';
    const first = await create({ input: "weather?", tools: [WEATHER], return_token_ids: true }, header);
    const output = first.output as JsonObject[];
    expect(output.map((o) => o.type)).toEqual(["reasoning", "function_call"]);
    const last = output.at(-1)!;
    const gen1 = last.generation_token_ids as number[];
    expect(Buffer.from(gen1).toString()).toBe(`<think>The user said: weather?. I will call a tool.</think>get_weather${String(last.arguments)}`);
    const strip = (o: JsonObject) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.includes("token") && k !== "generation_log_probs"));
    const second = await create(
      { input: [{ role: "user", content: "weather?" }, ...output.map(strip), { type: "function_call_output", call_id: last.call_id, output: "cold" }], tools: [WEATHER], return_token_ids: true },
      header,
    );
    const prompt2 = (second.output as JsonObject[]).at(-1)!.prompt_token_ids as number[];
    const prompt1 = last.prompt_token_ids as number[];
    expect(prompt2.slice(0, prompt1.length + gen1.length)).toEqual([...prompt1, ...gen1]);
  });

  it("streams them on the done item and the completed response", async () => {
    const stream = await sdk().responses.create({ model: "mock", input: "hi", stream: true, return_token_ids: true } as never);
    const events: JsonObject[] = [];
    for await (const e of stream as unknown as AsyncIterable<JsonObject>) events.push(e);
    const done = events.find((e) => e.type === "response.output_item.done")!.item as JsonObject;
    expect(Buffer.from(done.generation_token_ids as number[]).toString()).toBe("Hello from the mock model.");
    const completed = events.find((e) => e.type === "response.completed")!.response as JsonObject;
    expect((completed.output as JsonObject[])[0]).toMatchObject({ generation_token_ids: done.generation_token_ids, prompt_token_ids: done.prompt_token_ids });
  });

  it("leaves them out unless asked, or when the token_ids knob is off", async () => {
    const plain = await create({ input: "hi" });
    expect((plain.output as JsonObject[])[0]).not.toHaveProperty("generation_token_ids");
    const off = await create({ input: "hi", return_token_ids: true }, '{"token_ids": false}');
    expect((off.output as JsonObject[])[0]).not.toHaveProperty("prompt_token_ids");
  });

  it("gives the same prompt ids as the Chat Completions path for the same conversation", async () => {
    const viaResponses = await create({ instructions: "Be brief.", input: "hi", tools: [WEATHER], return_token_ids: true });
    const chatPrompt = promptTokenIds({
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER.parameters } }],
    });
    expect((viaResponses.output as JsonObject[]).at(-1)!.prompt_token_ids).toEqual(chatPrompt);
    expect(Buffer.from(chatPrompt).toString()).toMatch(/\n<\|system\|>Be brief\.\n<\|user\|>hi\n<\|assistant\|>$/);
  });
});

// The environment `gym new-env` scaffolds: a lookup tool, and a verifier that
// rewards a final answer containing the row's expected answer.
const Trivia = z.object({ expected_answer: z.string() });
const trivia = defineEnvironment({
  name: "trivia_lookup",
  description: "lookup, then answer",
  tools: [
    defineTool<unknown, z.ZodObject<{ question: z.ZodString }>>({
      name: "lookup",
      description: "Look up the answer to a question.",
      args: z.object({ question: z.string() }),
      run: (_args, { task }) => ({ answer: taskFields(task, Trivia).expected_answer }),
    }),
  ],
  taskSchema: Trivia,
  verify: ({ task, response }) => ({ reward: lastAssistantText(response).includes(taskFields(task, Trivia).expected_answer) ? 1 : 0 }),
});

describe("a wrong answer under a verifier that checks the answer", () => {
  it("scores 0 where the right answer scores 1", async () => {
    const upstream = await startMock({ knobs: { wrongAnswerRate: 0.5 } });
    const model = await startModel(upstream.baseUrl, { api: "chat_completions" });
    try {
      const deps = { name: "agent", model: model.client, resources: hostClient(trivia), maxSteps: 10 };
      const lookup = { type: "function", name: "lookup", parameters: { type: "object", properties: { question: { type: "string" } }, required: ["question"] } };
      const rewards: number[] = [];
      for (let seed = 0; seed < 16; seed++) {
        const row = { responses_create_params: { input: "Capital of France?", tools: [lookup], seed }, expected_answer: "Paris" };
        const rollout = await runSimpleAgent(deps, taskFromJson(row), `r${seed}`);
        const answer = lastAssistantText(rollout.response!);
        expect(rollout.verdict!.reward).toBe(answer === WRONG_ANSWER ? 0 : 1);
        rewards.push(rollout.verdict!.reward);
      }
      expect(new Set(rewards)).toEqual(new Set([0, 1]));
    } finally {
      await model.close();
      await upstream.server.close();
    }
  });
});

describe("Chat Completions prompts without token fields", () => {
  it("render each assistant turn as what was generated, so prompts extend each other (reasoning_content too)", async () => {
    const upstream = await startMock({ knobs: { reasoning: "reasoning_content" } });
    try {
      const sdk = new OpenAI({ baseURL: upstream.baseUrl, apiKey: "x", maxRetries: 0 });
      const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: WEATHER.parameters } }];
      const messages: JsonObject[] = [{ role: "user", content: "weather?" }];
      const ask = async () => {
        const c = (await sdk.chat.completions.create({ model: "mock", messages, tools, return_token_ids: true } as never)) as unknown as JsonObject;
        const choice = (c.choices as JsonObject[])[0]!;
        return { prompt: c.prompt_token_ids as number[], generation: choice.token_ids as number[], message: choice.message as JsonObject };
      };
      const first = await ask();
      const call = (first.message.tool_calls as JsonObject[])[0]!;
      messages.push(first.message, { role: "tool", tool_call_id: call.id as string, content: "cold" });
      const second = await ask();
      expect(second.prompt.slice(0, first.prompt.length + first.generation.length)).toEqual([...first.prompt, ...first.generation]);
      expect(Buffer.from(second.generation).toString()).toBe("The user said: weather?. I will answer.Here is what the tool said: cold");
    } finally {
      await upstream.server.close();
    }
  });
});
