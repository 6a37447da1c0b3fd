import * as fs from "node:fs";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Role, FunctionCallOutputSchema, FunctionCallSchema, ItemSchema, ItemStatus, ResponseCreateParamsSchema, ResponseSchema, ToolSchema, type Item } from "../../gen/gymmesh/v1/responses_pb.js";
import { TaskSchema } from "../../gen/gymmesh/v1/task_pb.js";
import { nemoGymFiles } from "../../testing/data/nemo-gym/files.js";
import {
  JsonShapeError,
  functionToolFromJson,
  functionToolToJson,
  itemFromJson,
  itemToJson,
  paramsFromJson,
  paramsToJson,
  responseFromJson,
  responseToJson,
  taskFromJson,
  taskToJson,
  toolFromJson,
  toolToJson,
} from "./responses-json.js";

interface Row {
  name: string;
  row: JsonObject;
}

const FILES = nemoGymFiles();

function dataRows(): Row[] {
  const rows: Row[] = [];
  for (const { name, file } of FILES) {
    fs.readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (line.trim() !== "") rows.push({ name: `${name}:${i + 1}`, row: JSON.parse(line) as JsonObject });
      });
  }
  return rows;
}

const ROWS = dataRows();

/** Splits a rollout row into its response and the task part. */
function split(row: JsonObject): { task: JsonObject; response: JsonObject | undefined } {
  const { response, ...task } = row;
  return { task, response: response as JsonObject | undefined };
}

function itemRoundTrip(json: JsonObject): JsonObject {
  const item = itemFromJson(json);
  const viaBinary = fromBinary(ItemSchema, toBinary(ItemSchema, item));
  const out = itemToJson(viaBinary);
  expect(itemToJson(item)).toStrictEqual(out);
  return out;
}

function expectShapeError(fn: () => unknown, where: string, problem: RegExp): JsonShapeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(JsonShapeError);
  const err = caught as JsonShapeError;
  expect(err.path).toBe(where);
  expect(err.message).toContain(where === "" ? "(root)" : where);
  expect(err.message).toMatch(problem);
  return err;
}

describe("NeMo Gym data round-trips", () => {
  it("finds the data", () => {
    expect(FILES).toHaveLength(22);
    expect(ROWS).toHaveLength(110);
    expect(ROWS.filter((r) => "response" in r.row)).toHaveLength(25);
    expect(ROWS.length).toBeGreaterThan(50);
    expect(ROWS.filter((r) => "response" in r.row).length).toBeGreaterThan(10);
  });

  it.each(ROWS)("$name", ({ row }) => {
    const { task, response } = split(row);

    const t = taskFromJson(task);
    expect(taskToJson(t)).toStrictEqual(task);
    const tBin = fromBinary(TaskSchema, toBinary(TaskSchema, t));
    expect(taskToJson(tBin)).toStrictEqual(task);

    if (response !== undefined) {
      const r = responseFromJson(response);
      expect(responseToJson(r)).toStrictEqual(response);
      const rBin = fromBinary(ResponseSchema, toBinary(ResponseSchema, r));
      expect(responseToJson(rBin)).toStrictEqual(response);
    }
  });

  it("types every item, part and tool of the data (nothing falls to `other`)", () => {
    const kinds = new Map<string, number>();
    const count = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
    const visit = (items: Item[]) => {
      for (const it of items) {
        count(it.kind.case ?? "none");
        if (it.kind.case === "message" && it.kind.value.content.case === "parts") {
          for (const p of it.kind.value.content.value.parts) count(`part:${p.kind.case}`);
        }
      }
    };
    for (const { row } of ROWS) {
      const { task, response } = split(row);
      const p = taskFromJson(task).responsesCreateParams!;
      if (p.input.case === "inputItems") visit(p.input.value.items);
      for (const tool of p.tools) count(`tool:${tool.kind.case}`);
      if (response) {
        const r = responseFromJson(response);
        visit(r.output);
        for (const tool of r.tools) count(`tool:${tool.kind.case}`);
      }
    }
    expect([...kinds.keys()].filter((k) => k.includes("other"))).toEqual([]);
    expect(kinds.get("message")).toBeGreaterThan(0);
    expect(kinds.get("functionCall")).toBeGreaterThan(0);
    expect(kinds.get("functionCallOutput")).toBeGreaterThan(0);
    expect(kinds.get("reasoning")).toBeGreaterThan(0);
  });

  it("puts a task row's other fields in extra and reads typed fields", () => {
    const r = ROWS.find((x) => {
      const out = (x.row.response as JsonObject | undefined)?.output;
      return Array.isArray(out) && out.some((i) => (i as JsonObject).type === "function_call");
    })!;
    expect(r).toBeDefined();
    const { task, response } = split(r.row);
    const t = taskFromJson(task);
    expect(Object.keys(JSON.parse(t.extraJson || "{}"))).not.toContain("responses_create_params");
    const res = responseFromJson(response);
    const fc = res.output.find((i) => i.kind.case === "functionCall");
    expect(fc?.kind.case).toBe("functionCall");
    if (fc?.kind.case === "functionCall") {
      expect(fc.kind.value.name).not.toBe("");
      expect(typeof JSON.parse(fc.kind.value.arguments)).toBe("object");
    }
    expect(res.usage?.totalTokens).toBeGreaterThan(0);
  });
});

describe("items", () => {
  it("keeps an untyped message untyped", () => {
    const json = { role: "user", content: "What is 2+2?" };
    const item = itemFromJson(json);
    expect(item.kind.case).toBe("message");
    if (item.kind.case !== "message") return;
    expect(item.kind.value.untyped).toBe(true);
    expect(item.kind.value.role).toBe(Role.USER);
    expect(item.kind.value.content).toEqual({ case: "text", value: "What is 2+2?" });
    expect(itemToJson(item)).toStrictEqual(json);
    expect("type" in itemRoundTrip(json)).toBe(false);

    const typed = itemFromJson({ type: "message", role: "user", content: "hi" });
    expect(typed.kind.case === "message" && typed.kind.value.untyped).toBe(false);
    expect(itemToJson(typed).type).toBe("message");
  });

  it("round-trips token data flat on message, function_call and reasoning items", () => {
    const tokens = { prompt_token_ids: [1, 2, 3], generation_token_ids: [4, 5], generation_log_probs: [-0.5, -1.25] };
    const items: JsonObject[] = [
      { type: "message", id: "m1", role: "assistant", status: "completed", content: [{ type: "output_text", text: "4", annotations: [] }], ...tokens },
      { type: "function_call", id: "fc1", call_id: "c1", name: "f", arguments: "{}", status: "completed", ...tokens },
      { type: "reasoning", id: "r1", summary: [{ type: "summary_text", text: "thinking" }], ...tokens },
    ];
    for (const json of items) {
      const item = itemFromJson(json);
      const v = item.kind.value as { tokens?: { promptTokenIds: number[]; generationTokenIds: number[]; generationLogProbs: number[] }; extra?: JsonObject };
      expect(v.tokens?.promptTokenIds).toEqual([1, 2, 3]);
      expect(v.tokens?.generationTokenIds).toEqual([4, 5]);
      expect(v.tokens?.generationLogProbs).toEqual([-0.5, -1.25]);
      expect(v.extra).toBeUndefined();
      expect(itemRoundTrip(json)).toStrictEqual(json);
    }
    // Without tokens, no token keys are written.
    const plain = itemToJson(itemFromJson({ type: "function_call", call_id: "c", name: "f", arguments: "" }));
    expect(Object.keys(plain)).not.toContain("prompt_token_ids");
  });

  it("keeps float32 precision for log probs on the wire", () => {
    const json = { type: "function_call", call_id: "c", name: "f", arguments: "{}", prompt_token_ids: [], generation_token_ids: [7], generation_log_probs: [-0.1] };
    expect(itemToJson(itemFromJson(json))).toStrictEqual(json); // in memory: exact
    const bin = itemToJson(fromBinary(ItemSchema, toBinary(ItemSchema, itemFromJson(json))));
    expect(bin.generation_log_probs).toEqual([Math.fround(-0.1)]);
  });

  it("keeps a partial token set verbatim in extra", () => {
    const json = { type: "message", role: "assistant", content: "x", generation_token_ids: [1, 2] };
    const item = itemFromJson(json);
    expect(item.kind.case === "message" && item.kind.value.tokens).toBeUndefined();
    expect(itemRoundTrip(json)).toStrictEqual(json);
  });

  it("keeps unknown keys, nulls and empty identifiers in extra", () => {
    const json = { type: "function_call_output", id: null, call_id: "c1", output: "", status: "", custom: { a: [1, null] } };
    const item = itemFromJson(json);
    expect(item.kind.case).toBe("functionCallOutput");
    if (item.kind.case !== "functionCallOutput") return;
    expect(item.kind.value.callId).toBe("c1");
    expect(item.kind.value.output).toBe("");
    expect(item.kind.value.status).toBe(ItemStatus.UNSPECIFIED);
    expect(JSON.parse(item.kind.value.extraJson)).toStrictEqual({ id: null, status: "", custom: { a: [1, null] } });
    expect(itemRoundTrip(json)).toStrictEqual(json);
  });

  it("writes required free-text fields even when empty, and null ones as null", () => {
    const built = create(ItemSchema, { kind: { case: "functionCallOutput", value: create(FunctionCallOutputSchema, { callId: "c", output: "" }) } });
    expect(itemToJson(built)).toStrictEqual({ type: "function_call_output", call_id: "c", output: "" });
    const fc = create(ItemSchema, { kind: { case: "functionCall", value: create(FunctionCallSchema, { callId: "c", name: "f" }) } });
    expect(itemToJson(fc)).toStrictEqual({ type: "function_call", call_id: "c", name: "f", arguments: "" });
    const nulls = { type: "function_call", call_id: "c", name: "f", arguments: null };
    expect(itemRoundTrip(nulls)).toStrictEqual(nulls);
  });

  it("keeps a function_call_output whose output is a list of parts", () => {
    const json = { type: "function_call_output", call_id: "c", output: [{ type: "input_text", text: "hi" }] };
    expect(itemRoundTrip(json)).toStrictEqual(json);
  });

  it("preserves presence of output_text annotations and logprobs", () => {
    const parts: JsonObject[] = [
      { type: "output_text", text: "a" },
      { type: "output_text", text: "a", annotations: [] },
      { type: "output_text", text: "a", annotations: [], logprobs: [] },
      { type: "output_text", text: "a", annotations: [{ type: "url_citation", url: "u" }], logprobs: null },
      { type: "output_text", text: "", logprobs: [{ token: "a", logprob: -0.25, top_logprobs: [] }] },
    ];
    for (const part of parts) {
      const json = { type: "message", role: "assistant", content: [part] };
      expect(itemRoundTrip(json)).toStrictEqual(json);
    }
    const item = itemFromJson({ type: "message", role: "assistant", content: [{ type: "output_text", text: "a", annotations: [] }] });
    const part = item.kind.case === "message" && item.kind.value.content.case === "parts" ? item.kind.value.content.value.parts[0] : undefined;
    expect(part?.kind.case).toBe("outputText");
    if (part?.kind.case === "outputText") {
      expect(part.kind.value.annotationsJson).toBe("[]");
      expect(part.kind.value.logprobsJson).toBe("");
    }
  });

  it("keeps unmodeled item, part and reasoning shapes", () => {
    const cases: JsonObject[] = [
      { type: "web_search_call", id: "ws", status: "completed" },
      { some: "thing" },
      { type: "message", role: "user", content: [{ type: "input_image", image_url: "data:..." }, { type: "input_text", text: "x", extra_key: 1 }, { type: "refusal", refusal: "no" }] },
      { type: "message", role: "user" },
      { type: "message", role: "", id: "", content: null },
      { type: "reasoning", summary: [], content: [] },
      { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "t" }], encrypted_content: "abc" },
      { type: "reasoning", summary: null },
      // A reasoning text part's type follows from its list; another type and other keys are kept too.
      { type: "reasoning", summary: [{ type: "summary_text", text: "t", extra: 1 }, { type: "reasoning_text", text: "u" }], content: [{ type: "summary_text", text: "v" }] },
      // A role or status the enums do not know yet passes through.
      { type: "message", role: "critic", status: "archived", content: "x" },
    ];
    for (const json of cases) expect(itemRoundTrip(json)).toStrictEqual(json);
    expect(itemFromJson({ some: "thing" }).kind.case).toBe("otherJson");
  });
});

describe("params, tools, responses", () => {
  it("round-trips the short and long input forms and the typed request fields", () => {
    const cases: JsonObject[] = [
      { input: "hello" },
      { input: "" },
      {},
      { input: [], tools: [] },
      {
        input: [{ role: "system", content: "be brief" }],
        model: "m",
        instructions: "",
        temperature: 0,
        top_p: 0.9,
        max_output_tokens: 128,
        parallel_tool_calls: false,
        tool_choice: { type: "function", name: "f" },
        user: "",
        metadata: { k: "v" },
        tools: [{ type: "function", name: "f", parameters: { type: "object", properties: {} }, strict: true }, { type: "web_search" }],
      },
      { input: null, model: null, temperature: null, tool_choice: null },
    ];
    for (const json of cases) {
      const p = paramsFromJson(json);
      expect(paramsToJson(p)).toStrictEqual(json);
      expect(paramsToJson(fromBinary(ResponseCreateParamsSchema, toBinary(ResponseCreateParamsSchema, p)))).toStrictEqual(json);
    }
    const p = paramsFromJson(cases[4]);
    expect(p.temperature).toBe(0);
    expect(p.maxOutputTokens).toBe(128);
    expect(p.tools.map((t) => t.kind.case)).toEqual(["function", "otherJson"]);
    expect(JSON.parse(p.extraJson)).toStrictEqual({ user: "", metadata: { k: "v" } });
  });

  it("round-trips tools", () => {
    const cases: JsonObject[] = [
      { type: "function", name: "f", description: "", parameters: { type: "object" }, strict: false },
      { type: "function", name: "f", description: null, parameters: null },
      { type: "function", function: { name: "chat_completions_style" } },
      { type: "mcp", server_label: "x" },
    ];
    for (const json of cases) {
      const t = toolFromJson(json);
      expect(toolToJson(t)).toStrictEqual(json);
      expect(toolToJson(fromBinary(ToolSchema, toBinary(ToolSchema, t)))).toStrictEqual(json);
    }
    const ft = functionToolFromJson(cases[0]);
    expect(ft.description).toBe("");
    expect(ft.strict).toBe(false);
    expect(functionToolToJson(ft)).toStrictEqual(cases[0]);
  });

  it("round-trips a response with tokens, usage details and unknown fields", () => {
    const json = {
      id: "resp_1",
      object: "response",
      created_at: 1753983920.5,
      model: "m",
      status: "completed",
      output: [{ type: "message", id: "msg", role: "assistant", status: "completed", content: [{ type: "output_text", text: "4", annotations: [], logprobs: [] }], prompt_token_ids: [1], generation_token_ids: [2], generation_log_probs: [-0.5] }],
      usage: { input_tokens: 10, output_tokens: 0, total_tokens: 10, input_tokens_details: { cached_tokens: 0 } },
      tools: [],
      error: null,
      text: { format: { type: "text" } },
    };
    const r = responseFromJson(json);
    expect(r.usage?.outputTokens).toBe(0);
    expect(r.createdAt).toBe(1753983920.5);
    expect(responseToJson(r)).toStrictEqual(json);
    expect(responseToJson(fromBinary(ResponseSchema, toBinary(ResponseSchema, r)))).toStrictEqual(json);
  });
});

describe("JsonShapeError", () => {
  const P = "responses_create_params";
  const row = (params: unknown): JsonObject => ({ responses_create_params: params } as JsonObject);

  it("rejects rows that are not objects or lack responses_create_params", () => {
    expectShapeError(() => taskFromJson("a string"), "", /task row must be a JSON object, got a string/);
    expectShapeError(() => taskFromJson([1]), "", /task row must be a JSON object, got an array/);
    expectShapeError(() => taskFromJson(null), "", /got null/);
    expectShapeError(() => taskFromJson({ expected_answer: "4" }), P, /needs "responses_create_params".*missing/);
    expectShapeError(() => taskFromJson({ responses_create_params: null }), P, /is null/);
    expectShapeError(() => taskFromJson(row("x")), P, /must be a JSON object, got a string/);
  });

  it("rejects an input that is neither a string nor an array", () => {
    expectShapeError(() => taskFromJson(row({ input: 42 })), `${P}.input`, /input must be a string or an array of items, got number 42/);
    expectShapeError(() => taskFromJson(row({ input: { role: "user" } })), `${P}.input`, /got an object/);
  });

  it("rejects items that are not objects", () => {
    const input = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, "c"];
    expectShapeError(() => taskFromJson(row({ input })), `${P}.input[2]`, /an item must be a JSON object, got a string/);
    expectShapeError(() => itemFromJson(7), "", /an item must be a JSON object/);
  });

  it("rejects wrong types for typed fields, naming the place", () => {
    const input = (item: JsonObject): JsonObject => row({ input: [{ role: "user", content: "a" }, { role: "user", content: "b" }, item] });
    expectShapeError(() => taskFromJson(input({ role: "user", content: 5 })), `${P}.input[2].content`, /content must be a string or an array of content parts, got number 5/);
    expectShapeError(() => taskFromJson(input({ role: "user", content: ["x"] })), `${P}.input[2].content[0]`, /content part must be a JSON object/);
    expectShapeError(() => taskFromJson(input({ role: 3, content: "x" })), `${P}.input[2].role`, /expected a string, got number 3/);
    expectShapeError(
      () => taskFromJson(input({ type: "function_call", call_id: "c", name: "f", arguments: { a: 1 } })),
      `${P}.input[2].arguments`,
      /expected a string, got an object/,
    );
    expectShapeError(() => taskFromJson(input({ type: "function_call", call_id: "c", name: "f" })), `${P}.input[2].arguments`, /missing required key "arguments"/);
    expectShapeError(() => taskFromJson(input({ type: "function_call_output", call_id: "c", output: 1 })), `${P}.input[2].output`, /expected a string/);
    expectShapeError(() => taskFromJson(input({ type: "message", role: "user", content: [{ type: "input_text" }] })), `${P}.input[2].content[0].text`, /missing required key "text"/);
    expectShapeError(
      () => taskFromJson(input({ type: "message", role: "assistant", content: [{ type: "output_text", text: "a", annotations: "none" }] })),
      `${P}.input[2].content[0].annotations`,
      /expected an array/,
    );
    expectShapeError(() => taskFromJson(input({ type: "reasoning", summary: "s" })), `${P}.input[2].summary`, /expected an array of summary parts/);
    expectShapeError(() => taskFromJson(input({ type: "reasoning" })), `${P}.input[2].summary`, /missing required key "summary"/);
    expectShapeError(() => taskFromJson(input({ type: "reasoning", summary: [{ text: "t" }] })), `${P}.input[2].summary[0].type`, /missing required key "type"/);
    expectShapeError(
      () => taskFromJson(input({ type: "message", role: "user", content: "x", prompt_token_ids: [1, 2.5], generation_token_ids: [], generation_log_probs: [] })),
      `${P}.input[2].prompt_token_ids[1]`,
      /expected a 32-bit integer, got number 2.5/,
    );
    expectShapeError(
      () => taskFromJson(input({ type: "message", role: "user", content: "x", prompt_token_ids: [], generation_token_ids: [], generation_log_probs: ["a"] })),
      `${P}.input[2].generation_log_probs[0]`,
      /expected a finite \(float32\) number/,
    );
  });

  it("rejects wrong types in request fields, tools and responses", () => {
    expectShapeError(() => paramsFromJson({ temperature: "hot" }), "temperature", /expected a number, got a string/);
    expectShapeError(() => paramsFromJson({ max_output_tokens: 1.5 }), "max_output_tokens", /32-bit integer/);
    expectShapeError(() => paramsFromJson({ parallel_tool_calls: "yes" }), "parallel_tool_calls", /expected a boolean/);
    expectShapeError(() => paramsFromJson({ model: 1 }), "model", /expected a string/);
    expectShapeError(() => taskFromJson(row({ tools: {} })), `${P}.tools`, /expected an array of tools, got an object/);
    expectShapeError(() => taskFromJson(row({ tools: [1] })), `${P}.tools[0]`, /a tool must be a JSON object/);
    expectShapeError(() => taskFromJson(row({ tools: [{ type: "function", name: "f", parameters: "{}" }] })), `${P}.tools[0].parameters`, /JSON schema object/);
    expectShapeError(() => taskFromJson(row({ tools: [{ type: "function", name: "f", strict: 1 }] })), `${P}.tools[0].strict`, /expected a boolean/);
    expectShapeError(() => functionToolFromJson({ type: "mcp" }), "type", /"type": "function"/);
    expectShapeError(() => responseFromJson({ id: "r" }), "output", /missing required key "output"/);
    expectShapeError(() => responseFromJson({ output: [], usage: { input_tokens: 1, output_tokens: 1 } }), "usage.total_tokens", /missing required key/);
    expectShapeError(() => responseFromJson({ output: [], usage: 3 }), "usage", /usage must be a JSON object/);
    expectShapeError(() => responseFromJson({ output: [{ type: "function_call", call_id: "c", name: "f", arguments: 2 }] }), "output[0].arguments", /expected a string/);
  });

  it("rejects values JSON cannot hold", () => {
    expectShapeError(() => taskFromJson({ responses_create_params: {}, score: Number.NaN }), "score", /NaN is not a JSON number/);
    expectShapeError(() => itemFromJson({ type: "x", when: new Date(0) }), "when", /expected a JSON value, got an object/);
  });
});
