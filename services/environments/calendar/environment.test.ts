import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { hostClient } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import calendar, { lastItemText } from "./environment.js";
import { extractJsonList, findJsonListSpan, gradeAssistantResponse, timeToMinutes } from "./grading.js";
import { compare, pyEq, PyError, pyJsonLoads, pyStr, type PyValue } from "./py-values.js";

type Json = Record<string, any>;
const DATA = fileURLToPath(new URL("./data/", import.meta.url));
const readJsonl = (name: string): Json[] =>
  fs
    .readFileSync(path.join(DATA, name), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const rows = readJsonl("example.jsonl");
const resources = hostClient(calendar);

const message = (...texts: string[]) => ({ id: "msg_0", type: "message", role: "assistant", status: "completed", content: texts.map((text) => ({ type: "output_text", text, annotations: [] })) });
const response = (...output: Json[]) => ({ id: "resp_test", created_at: 0, model: "dummy", object: "response", output, parallel_tool_calls: true, tool_choice: "auto", tools: [] });
const row = (exp: unknown) => ({ responses_create_params: { input: [{ role: "user", content: "Add a 60-minute sync between 2pm and 4pm. (event id: 0)" }] }, exp_cal_state: exp });
const expected = (constraint: string | null, duration = 60) => ({ event_id: 0, duration, constraint, min_time: "10:00", max_time: "16:00" });
const ONE = { "0": expected("between 2pm and 4pm") };
const event = (id: unknown, start: unknown, duration: unknown) => ({ event_id: id, start_time: start, duration });
const cal = (...events: Json[]) => JSON.stringify(events);

async function verify(task: Json, res: Json) {
  const { verdict } = await resources.verify({ task: taskFromJson(task), response: responseFromJson(res) });
  return verdict!.reward;
}

describe("time_to_minutes", () => {
  const cases: [string, bigint][] = [
    ["12am", 0n], ["12:30am", 30n], ["12pm", 720n], ["12:45pm", 765n], ["1pm", 780n], ["1:05pm", 785n], ["9am", 540n],
    ["10:00", 600n], ["16:00", 960n], ["00:30", 30n], [" 2 pm ", 840n], ["10:30 am", 630n], ["10:75", 675n], ["1_4:00", 840n],
  ];
  for (const [text, minutes] of cases) {
    it(`${JSON.stringify(text)} is ${minutes} minutes`, () => expect(timeToMinutes(text)).toBe(minutes));
  }
  it("refuses what Python's int() and unpacking refuse", () => {
    for (const bad of ["2PM", "14", "14:00:00", "14.00", "", "am", "ampm", "10:00pmam"]) expect(() => timeToMinutes(bad), bad).toThrow(PyError);
    expect(() => timeToMinutes(840n)).toThrow("'int' object has no attribute 'strip'");
  });
  it("keeps huge hours exact", () => {
    expect(timeToMinutes("123456789012345678901:00")).toBe(123456789012345678901n * 60n);
  });
});

describe("extract_json_list", () => {
  const PATTERN = /\[(?:[^\[\]]|\{[^}]*\})*\{(?:[^\[\]]|\{[^}]*\})*\}(?:[^\[\]]|\{[^}]*\})*\]/s;

  it("finds the span the backtracking pattern finds, for every string of up to 6 characters over []{}a\\n", () => {
    const alphabet = ["[", "]", "{", "}", "a", "\n"];
    let layer = [""];
    let checked = 0;
    for (let len = 1; len <= 6; len++) {
      layer = layer.flatMap((s) => alphabet.map((c) => s + c));
      for (const s of layer) {
        const m = PATTERN.exec(s);
        const want = m ? [m.index, m.index + m[0].length] : null;
        if (JSON.stringify(findJsonListSpan(s)) !== JSON.stringify(want)) expect({ s, got: findJsonListSpan(s) }).toEqual({ s, got: want });
        checked++;
      }
    }
    expect(checked).toBe(55986);
  });

  it("takes the first list of objects, skipping lists without one", () => {
    expect(extractJsonList(`Tags: ["a"]\nNow: [{"event_id": 1}] then [{"event_id": 2}]`)).toEqual([new Map([["event_id", 1n]])]);
  });

  it("gives up on a truncated list of many events without backtracking forever (the pattern alone takes exponential time)", () => {
    const events = Array.from({ length: 60 }, (_, i) => ({ event_id: i, event_name: "Sync", start_time: "10:00", duration: 30 }));
    expect(findJsonListSpan(JSON.stringify(events).slice(0, -1))).toBeNull();
    expect(findJsonListSpan(JSON.stringify(events))).toEqual([0, JSON.stringify(events).length]);
  });

  it("is None for a span that is not JSON, an error for one CPython cannot read", () => {
    expect(extractJsonList("[{'event_id': 0}]")).toBeNull();
    expect(extractJsonList("no list")).toBeNull();
    expect(() => extractJsonList(`[{"x": ${"1".repeat(4301)}}]`)).toThrow("Exceeds the limit");
  });
});

describe("Python values", () => {
  it("json.loads keeps ints exact and apart from floats", () => {
    const v = pyJsonLoads('[0, 0.0, 1E2, -0, 123456789012345678901234567890, NaN, -Infinity, "\\ud83d\\ude00"]') as PyValue[];
    expect(v.slice(0, 5)).toEqual([0n, 0, 100, 0n, 123456789012345678901234567890n]);
    expect(v.map((x) => pyStr(x))).toEqual(["0", "0.0", "100.0", "0", "123456789012345678901234567890", "nan", "-inf", "😀"]);
  });

  it("json.loads: the last duplicate key wins in the first one's place; str() of a dict is its repr", () => {
    const d = pyJsonLoads('{"b": 1, "1": [true, null, "it\'s"], "b": 2.5}');
    expect(pyStr(d)).toBe(`{'b': 2.5, '1': [True, None, "it's"]}`);
  });

  it("json.loads fails past CPython's nesting depth (RecursionError), not JS's stack", () => {
    expect(() => pyJsonLoads("[".repeat(9993) + "]".repeat(9993))).not.toThrow();
    expect(() => pyJsonLoads("[".repeat(9994) + "]".repeat(9994))).toThrow(expect.objectContaining({ type: "RecursionError" }));
    for (const bad of ["[1,]", '{"a" 1}', "[1] x", "01", "[\u0001]"]) expect(() => pyJsonLoads(bad), bad).toThrow(expect.objectContaining({ type: "JSONDecodeError" }));
  });

  it("compares ints and floats exactly, as Python does", () => {
    expect(compare(2n ** 53n + 1n, 2 ** 53)).toBe(1);
    expect(compare(839n, 839.5)).toBe(-1);
    expect(compare(840n, 839.5)).toBe(1);
    expect(compare(5n, 5)).toBe(0);
    expect(compare(5n, NaN)).toBeNaN();
    expect(compare(10n ** 400n, Infinity)).toBe(-1);
  });

  it("== treats true as 1 and 1 as 1.0; NaN equals NaN only inside containers (json.loads's NaN is one object)", () => {
    expect(pyEq(true, 1n)).toBe(true);
    expect(pyEq(1n, 1.0)).toBe(true);
    expect(pyEq("1", 1n)).toBe(false);
    expect(pyEq(NaN, NaN)).toBe(false);
    expect(pyEq(pyJsonLoads('{"d": NaN}'), pyJsonLoads('{"d": NaN}'))).toBe(true);
    expect(pyEq(pyJsonLoads('{"a": 1, "b": 2}'), pyJsonLoads('{"b": 2, "a": 1.0}'))).toBe(true);
  });
});

describe("grade_assistant_response", () => {
  const grade = (text: string, exp: Json = ONE) => gradeAssistantResponse(text, exp);

  it("names the rule that decided", () => {
    expect(grade(cal(event(0, "2pm", 60)))).toEqual({ reward: 1, reason: "pass" });
    expect(grade("<think>x</think>" + cal(event(0, "2pm", 60)))).toEqual({ reward: 0, reason: "think_found" });
    expect(grade("anything", {})).toEqual({ reward: 1, reason: "pass" });
    expect(grade("no calendar")).toEqual({ reward: 0, reason: "no_json_list" });
    expect(grade(cal(event(0, "2pm", 60), event(1, "3pm", 60)))).toEqual({ reward: 0, reason: "different_number_of_events" });
    const two = { "0": expected(null), "1": { ...expected(null), event_id: 1 } };
    expect(grade(cal(event(0, "2pm", 60), event(1, "2:30pm", 60)), two)).toEqual({ reward: 0, reason: "conflicting_events" });
    expect(grade(cal(event(0, "2pm", 60), event(1, "3pm", 60)), two)).toEqual({ reward: 1, reason: "pass" });
    expect(grade(cal(event(0, "1:30pm", 60)))).toEqual({ reward: 0, reason: "constraint_violated" });
    expect(grade(cal(event(0, "2PM", 60)))).toEqual({ reward: 0, reason: "error_in_grading" });
  });

  it("checks each constraint kind at its edges", () => {
    const at = (constraint: string, start: string, duration = 60) => grade(cal(event(0, start, duration)), { "0": expected(constraint, duration) }).reward;
    expect([at("before 1pm", "12pm"), at("before 1pm", "12:15pm")]).toEqual([1, 0]);
    expect([at("after 2pm", "2pm"), at("after 2pm", "1:59pm")]).toEqual([1, 0]);
    expect([at("between 2pm and 4pm", "3pm"), at("between 2pm and 4pm", "3:01pm"), at("between 2pm to 4pm", "3pm")]).toEqual([1, 0, 0]);
    expect([at("at 12:15pm", "12:15pm"), at("at 12:15pm", "12:30pm"), at("at 14:00", "2pm")]).toEqual([1, 0, 1]);
    expect([at("around noon", "3pm"), at("", "3pm")]).toEqual([1, 1]);
    expect([at(null as never, "10am"), at(null as never, "9:59am"), at(null as never, "3:01pm")]).toEqual([1, 0, 0]);
  });

  it("reads event ids as Python's str() does", () => {
    expect(grade('[{"event_id": "0", "start_time": "2pm", "duration": 60}]').reward).toBe(1);
    expect(grade('[{"event_id": 0.0, "start_time": "2pm", "duration": 60}]').reward).toBe(0);
    expect(grade('[{"event_id": true, "start_time": "2pm", "duration": 60}]', { True: expected("after 2pm") }).reward).toBe(1);
  });

  it("fails an int + float past the float range (OverflowError), as Python does", () => {
    const huge = "1".repeat(320);
    const exp = { "0": { event_id: 0, duration: 0.5, constraint: null, min_time: `${huge}:00`, max_time: `${huge}:30` } };
    expect(grade(`[{"event_id": 0, "start_time": "${huge}:00", "duration": 0.5}]`, exp)).toEqual({ reward: 0, reason: "error_in_grading" });
    const exact = { "0": { ...exp["0"], duration: 1, min_time: `${huge}:00` } };
    expect(grade(`[{"event_id": 0, "start_time": "${huge}:00", "duration": 1}]`, exact)).toEqual({ reward: 1, reason: "pass" });
  });
});

describe("the graded text: output[-1].content[0].text", () => {
  const text = (...output: Json[]) => lastItemText(responseFromJson(response(...output)));

  it("reads the first part of the last item only", () => {
    expect(text(message("a", "b"))).toBe("a");
    expect(text(message("a"), { id: "rs", type: "reasoning", summary: [] })).toBe("");
    expect(text({ id: "rs", type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "r" }] })).toBe("r");
    expect(text(message("a"), { id: "fc", type: "function_call", call_id: "c", name: "f", arguments: "{}" })).toBe("");
    expect(text()).toBe("");
  });

  it("scores a refusal 0 and refuses what NeMo Gym cannot read", async () => {
    const refusal = { id: "m", type: "message", role: "assistant", status: "completed", content: [{ type: "refusal", refusal: "No." }] };
    expect(await verify(row(ONE), response(refusal))).toBe(0);
    await expect(verify(row(ONE), response({ type: "message", role: "assistant", content: cal(event(0, "2pm", 60)) }))).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("response.output[0].content: is a plain string"),
    });
  });
});

describe("calendar rows", () => {
  it("refuses a row without an exp_cal_state object, naming the field", async () => {
    for (const bad of [{ responses_create_params: { input: [] } }, row(null), row([expected(null)]), row("0")]) {
      await expect(verify(bad, response(message("[]")))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.exp_cal_state") });
    }
  });

  it("scores an expected event of the wrong shape 0 (NeMo Gym accepts any value there)", async () => {
    expect(await verify(row({ "0": "team sync" }), response(message(cal(event(0, "2pm", 60)))))).toBe(0);
    expect(await verify(row({ "0": { ...expected(null), min_time: 600 } }), response(message(cal(event(0, "2pm", 60)))))).toBe(0);
  });

  it("has no tools", async () => {
    expect((await resources.listTools({})).tools).toEqual([]);
    const { sessionId } = await resources.seedSession({ task: taskFromJson(rows[0]!) });
    await expect(resources.callTool({ sessionId, name: "add_event", arguments: '{"event_id": 0' })).rejects.toMatchObject({
      code: Code.NotFound,
      rawMessage: expect.stringContaining('unknown tool "add_event" (tools: none)'),
    });
  });
});

describe("calendar against NeMo Gym's stored rollouts (data/example_rollouts.jsonl)", () => {
  const rollouts = readJsonl("example_rollouts.jsonl");
  const contents = (r: Json) => JSON.stringify(r.responses_create_params.input.map((m: Json) => m.content));

  it("gives every stored reward", async () => {
    expect(rollouts.map((r) => r.reward)).toEqual([1, 0, 1, 0, 0]);
    for (const [i, rollout] of rollouts.entries()) {
      const task = rows.find((r) => contents(r) === contents(rollout));
      expect(task, `line ${i + 1} has a row`).toBeDefined();
      expect({ line: i + 1, reward: await verify(task!, rollout.response) }).toEqual({ line: i + 1, reward: rollout.reward });
    }
  });
});

describe("calendar through the mesh", () => {
  let replayed: EnvironmentMesh;
  let scripted: EnvironmentMesh;
  beforeAll(async () => {
    // The mock model replays what a real model answered to these conversations on NeMo Gym.
    replayed = await startEnvironmentMesh("calendar", { replay: [path.join(DATA, "example_rollouts.jsonl")] });
    scripted = await startEnvironmentMesh("calendar");
  });
  afterAll(async () => {
    await replayed?.close();
    await scripted?.close();
  });

  it("scores the replayed answers of the example conversations as NeMo Gym stored them", async () => {
    const agent = replayed.agent("calendar_simple_agent");
    const got = [];
    for (const r of rows) {
      const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(r) } });
      expect(rollout!.steps).toBe(1);
      got.push(rollout!.verdict!.reward);
    }
    // example.jsonl's order; the stored rollouts are of rows 1, 5, 4, 3, 2.
    expect(got).toEqual([1, 0, 0, 1, 0]);
  });

  it("scores the stand-in's 'Hello from the mock model.': 0 with events expected, 1 with none", async () => {
    const agent = scripted.agent("calendar_simple_agent");
    const withEvents = await agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(withEvents.rollout!.verdict!.reward).toBe(0);
    const nothingExpected = await agent.run({ input: { case: "task", value: taskFromJson({ ...rows[0], exp_cal_state: {} }) } });
    expect(nothingExpected.rollout!.verdict!.reward).toBe(1);
    expect(verdictFields(nothingExpected.rollout!.verdict)).toEqual({});
  });

  it("fails a rollout whose row has no exp_cal_state", async () => {
    const agent = scripted.agent("calendar_simple_agent");
    const { exp_cal_state: _drop, ...noField } = rows[0]!;
    await expect(agent.run({ input: { case: "task", value: taskFromJson(noField) } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("exp_cal_state"),
    });
  });
});
