// The verifier-case runner itself: a case that does not hold is reported.
import { describe, expect, it } from "vitest";
import exampleSingleToolCall from "../environments/example_single_tool_call/environment.js";
import { caseTask, mismatch, parseCases, runCase } from "./verify-cases.js";

const response = (output: unknown[]) => ({ id: "r", output });
const call = { type: "function_call", call_id: "c", name: "get_weather", arguments: "{}" };
const task = { responses_create_params: { input: "weather?" } };

describe("verify cases", () => {
  it("reports a wrong reward, a missing error, a wrong error code and a bad line", async () => {
    const lines = [
      { name: "wrong reward", task, response: response([call]), expected_reward: 0 },
      { name: "no error", task, response: response([call]), expected_error: "invalid_argument" },
      { name: "other code", task, expected_error: { code: "not_found" } },
      { name: "holds", task, response: response([call]), expected_reward: 1 },
    ];
    const cases = parseCases(lines.map((l) => JSON.stringify(l)).join("\n"), "cases.jsonl");
    const reports = await Promise.all(cases.map(async (c) => mismatch(c, await runCase(exampleSingleToolCall, c))));
    expect(reports[0]).toMatch(/expected reward 0, got 1/);
    expect(reports[1]).toMatch(/expected an error/);
    expect(reports[2]).toMatch(/expected error not_found, got invalid_argument/);
    expect(reports[3]).toBeUndefined();
    expect(cases.map((c) => c.kind)).toEqual(["zero_reward", "malformed", "malformed", "full_reward"]);
    expect(() => parseCases('{"name": 1}\n{oops', "cases.jsonl")).toThrow(/cases.jsonl:2: not valid JSON/);
  });

  it("keeps the case's own fields, nemo_gym_differs included, out of an inline task row", () => {
    const inline = {
      name: "inline",
      responses_create_params: { input: "hi" },
      expected_answer: "B",
      response: { id: "r", output: [] },
      expected_reward: 0,
      note: "why",
      nemo_gym_differs: { release: "0.7.0", reward: 1, why: "pinned" },
    };
    expect(caseTask(inline)).toEqual({ responses_create_params: { input: "hi" }, expected_answer: "B" });
  });
});
