import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import type { ModelClient } from "../../resources/environment.js";
import { hostClient, hostClients } from "../../resources/verify-cases.js";
import { loadConfig } from "../../app/config.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import mathWithJudge, { verifyAnswer } from "./environment.js";
import { JUDGE_SYSTEM_MESSAGE, judgePrompt, judgeReward, judgeSaysEqual } from "./judge.js";
import { extractLastBoxedAnswer, runMathVerify, stripMathDelimiters } from "./library.js";

type Json = Record<string, any>;
const DATA = fileURLToPath(new URL("./data/", import.meta.url));
const readJsonl = (name: string): Json[] =>
  fs
    .readFileSync(path.join(DATA, name), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const message = (...texts: string[]): Json => ({ id: "msg_0", type: "message", role: "assistant", status: "completed", content: texts.map((text) => ({ type: "output_text", text, annotations: [] })) });
const response = (...output: Json[]): Json => ({ id: "resp_test", created_at: 0, model: "dummy", object: "response", output, parallel_tool_calls: true, tool_choice: "auto", tools: [] });
const row = (question: string, expected: unknown): Json => ({ responses_create_params: { input: [{ role: "user", content: question }] }, question, expected_answer: expected });

async function verify(task: Json, res: Json, settings?: Json) {
  const client = settings ? hostClients(mathWithJudge, settings).resources : hostClient(mathWithJudge);
  const { verdict } = await client.verify({ task: taskFromJson(task), response: responseFromJson(res) });
  return { reward: verdict!.reward, extra: verdictFields(verdict) as Json };
}

describe("the boxed answer gate (the release's _extract_last_boxed_answer)", () => {
  it("takes the exact contents of the last complete box", () => {
    expect(extractLastBoxedAnswer("No boxed answer")).toBeNull();
    expect(extractLastBoxedAnswer(String.raw`First \boxed{wrong}, then \boxed{right}`)).toBe("right");
    expect(extractLastBoxedAnswer(String.raw`\boxed{\frac{1}{2}}`)).toBe(String.raw`\frac{1}{2}`);
    expect(extractLastBoxedAnswer(String.raw`\boxed{ exact text }`)).toBe(" exact text ");
    expect(extractLastBoxedAnswer(String.raw`\boxed{unclosed`)).toBeNull();
  });

  it("strips \\( \\) and $ $ around expected answers", () => {
    expect(stripMathDelimiters(String.raw` \(\frac{1}{2}\) `)).toBe(String.raw`\frac{1}{2}`);
    expect(stripMathDelimiters("$ 3 $")).toBe("3");
    expect(stripMathDelimiters("$")).toBe("$");
  });
});

describe("the library verifier (math-verify rules)", () => {
  const cases: [string, string, number, string | null][] = [
    ["8", String.raw`3 + 5 = \boxed{8}`, 1, "8"],
    [String.raw`\frac{1}{2}`, String.raw`\boxed{0.5}`, 1, "1/2"],
    [String.raw`\frac{1}{3}`, String.raw`\boxed{0.333333}`, 1, "0.333333000000000"],
    [String.raw`\frac{1}{3}`, String.raw`\boxed{0.3333}`, 0, "0.333300000000000"],
    [String.raw`2\sqrt{2}`, String.raw`\boxed{\sqrt{8}}`, 1, "sqrt(8)"],
    [String.raw`\pi`, String.raw`\boxed{3.14159}`, 0, "3.14159000000000"],
    ["x^2 - 1", String.raw`\boxed{(x-1)(x+1)}`, 1, "(x - 1)*(x + 1)"],
    ["x^2 - 1", String.raw`\boxed{(x-1)(x+2)}`, 0, "(x - 1)*(x + 2)"],
    ["(1, 2]", String.raw`\boxed{(1,2]}`, 1, "Interval.Lopen(1, 2)"],
    ["[1, 2]", String.raw`\boxed{(1,2)}`, 0, "Interval.open(1, 2)"],
    ["0.5", String.raw`\boxed{50\%}`, 1, "50*(1/100)"],
    ["3", String.raw`\boxed{x = 3}`, 1, "Eq(x, 3)"],
    ["1, 2", String.raw`\boxed{2, 1}`, 1, "{1, 2}"],
    [String.raw`\ln 2`, String.raw`\boxed{\log 2}`, 0, "log(2, 10)"],
  ];
  it.each(cases)("gold %s, answer %s: %d", (gold, text, reward, extracted) => {
    expect(runMathVerify(gold, text)).toEqual({ libraryReward: reward, extractedAnswer: extracted });
  });

  it("scores huge closed forms on 64-digit values, not doubles that overflow", () => {
    const gold = String.raw`\(\frac{(3-\sqrt{3})(2-\sqrt{3})^{2016}+(3+\sqrt{3})(2+\sqrt{3})^{2016}}{6}\)`;
    expect(runMathVerify(gold, String.raw`\boxed{\dfrac{(1+\sqrt{3})^{4033}-(1-\sqrt{3})^{4033}}{2^{2017}\sqrt{3}}}`).libraryReward).toBe(1);
    expect(runMathVerify(gold, String.raw`\boxed{\dfrac{(1+\sqrt{3})^{4033}-(1-\sqrt{3})^{4033}}{2^{2018}\sqrt{3}}}`).libraryReward).toBe(0);
  });
});

describe("verify (the release's _verify_answer)", () => {
  it("gives 0.0 with no box, never asking the library or the judge", async () => {
    let asked = 0;
    const v = await verifyAnswer("q", "2", "the answer is 2", async () => [++asked, []]);
    expect(v).toEqual({ reward: 0, extractedAnswer: null, libraryReward: 0, judgeEvaluations: null });
    expect(asked).toBe(0);
  });

  it("asks the judge only when the library does not find them equal, with the boxed text", async () => {
    const seen: string[] = [];
    const judge = async (boxed: string): Promise<[number, never[]]> => (seen.push(boxed), [1, []]);
    expect((await verifyAnswer("q", "2", String.raw`\boxed{2}`, judge)).reward).toBe(1);
    expect(seen).toEqual([]);
    const v = await verifyAnswer("q", String.raw`\text{two}`, String.raw`so \boxed{ 2 }`, judge);
    expect(seen).toEqual([" 2 "]);
    expect(v).toEqual({ reward: 1, extractedAnswer: "2", libraryReward: 0, judgeEvaluations: [] });
  });

  it("writes the release's fields and joins message parts with nothing between", async () => {
    const res = response(message("$1"), { id: "rs_1", type: "reasoning", summary: [] }, message(" + x = \\boxed{x + 1}$"));
    const got = await verify(row("Simplify x + 7 - 6", "x + 1"), res);
    expect(got).toEqual({ reward: 1, extra: { expected_answer: "x + 1", extracted_answer: "x + 1", library_reward: 1, judge_evaluations: null } });
  });

  it("refuses malformed rows, naming the field", async () => {
    const noAnswer = row("q", undefined);
    delete noAnswer.expected_answer;
    await expect(verify(noAnswer, response(message("\\boxed{1}")))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.expected_answer") });
    await expect(verify(row("q", 3), response(message("\\boxed{3}")))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.expected_answer") });
    const noQuestion = row("q", "3");
    delete noQuestion.question;
    await expect(verify(noQuestion, response(message("\\boxed{3}")))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.question") });
  });

  it("with should_use_judge and no mesh: fails only when the judge is needed", async () => {
    const on = { should_use_judge: true };
    expect((await verify(row("q", "32"), response(message("\\boxed{32}")), on)).reward).toBe(1);
    await expect(verify(row("q", "32"), response(message("\\boxed{31}")), on)).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("refuses settings NeMo Gym's config does not have", () => {
    expect(() => hostClients(mathWithJudge, { should_use_judge: "yes" } as Json)).toThrow();
    expect(() => hostClients(mathWithJudge, { judge_model: "x" } as Json)).toThrow();
  });
});

/** A ModelClient answering each judge call with the next text, recording the params. */
function fakeJudge(...answers: string[]): { client: ModelClient; params: Json[] } {
  const params: Json[] = [];
  const client = {
    async createResponse(req: { params: unknown }) {
      const { paramsToJson } = await import("../../openai/responses-json.js");
      params.push(paramsToJson(req.params as never));
      const text = answers.shift();
      if (text === undefined) throw new ConnectError("no more answers", Code.Internal);
      return { response: responseFromJson(response(message(text))) };
    },
  } as unknown as ModelClient;
  return { client, params };
}

describe("the judge", () => {
  it("reads the first label of the last message's last text part", () => {
    const res = (...output: Json[]) => responseFromJson(response(...output));
    expect(judgeSaysEqual(res(message("My final verdict is [[A=B]]")))).toBe(true);
    expect(judgeSaysEqual(res(message("[[A!=B]] not [[A=B]]")))).toBe(false);
    expect(judgeSaysEqual(res(message("[[A=B]] then [[A!=B]]")))).toBe(true);
    expect(judgeSaysEqual(res(message("no label")))).toBe(false);
    expect(judgeSaysEqual(res(message("[[A=B]]"), { id: "fc", type: "function_call", call_id: "c", name: "f", arguments: "{}", status: "completed" }))).toBe(false);
    expect(judgeSaysEqual(res({ ...message("[[A=B]]"), content: [{ type: "output_text", text: "[[A=B]]", annotations: [] }, { type: "refusal", refusal: "no" }] }))).toBe(false);
  });

  it("asks in both orders, the second only after an 'equal', keeping the configured params", async () => {
    const both = fakeJudge("[[A=B]]", "verdict: [[A=B]]");
    const [reward, evaluations] = await judgeReward(both.client, { input: [], temperature: 0.5 }, "Q?", "two", "2");
    expect(reward).toBe(1);
    expect(evaluations).toHaveLength(2);
    expect(both.params.map((p) => p.input)).toEqual([
      [
        { role: "system", content: JUDGE_SYSTEM_MESSAGE },
        { role: "user", content: judgePrompt("Q?", "two", "2") },
      ],
      [
        { role: "system", content: JUDGE_SYSTEM_MESSAGE },
        { role: "user", content: judgePrompt("Q?", "2", "two") },
      ],
    ]);
    expect(both.params[0]!.temperature).toBe(0.5);

    const first = fakeJudge("[[A!=B]]");
    expect((await judgeReward(first.client, { input: [] }, "Q?", "two", "3"))[0]).toBe(0);
    expect(first.params).toHaveLength(1);

    const second = fakeJudge("[[A=B]]", "[[A!=B]]");
    const [r2, e2] = await judgeReward(second.client, { input: [] }, "Q?", "two", "3");
    expect([r2, e2.length]).toEqual([0, 2]);
  });

  it("is a model instance the config check requires when should_use_judge is on", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "math-judge-config-"));
    try {
      const file = path.join(dir, "c.yaml");
      const yaml = (judge: string, on: boolean) =>
        [
          "instances:",
          "  m:",
          "    kind: mock_model",
          "  math:",
          "    kind: resources",
          "    environment: math_with_judge",
          "    settings:",
          `      should_use_judge: ${on}`,
          `      judge_model_server: {name: ${judge}}`,
          "",
        ].join("\n");
      fs.writeFileSync(file, yaml("nobody", true));
      expect(() => loadConfig(file, {})).toThrow(/instances\.math\.settings\.judge_model_server\.name: "nobody" is not a model instance/);
      fs.writeFileSync(file, yaml("nobody", false));
      expect(() => loadConfig(file, {})).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("math_with_judge through the mesh", () => {
  const rows = readJsonl("example.jsonl");
  let dir: string;
  let scripted: EnvironmentMesh;
  let judged: EnvironmentMesh;
  // Two tasks answered "2" where the gold is a word: the library says 0.0; the judge decides.
  const agreeing = row("How many wheels has a bicycle?", String.raw`\text{two}`);
  const disagreeing = row("How many wheels has a tricycle?", String.raw`\text{three}`);
  const answered = (text: string) => response({ ...message(text), id: "msg_policy" });
  const judgeCall = (question: string, first: string, second: string) => ({
    input: [
      { role: "system", content: JUDGE_SYSTEM_MESSAGE },
      { role: "user", content: judgePrompt(question, first, second) },
    ],
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "math-judge-mesh-"));
    const recorded = [
      { responses_create_params: agreeing.responses_create_params, response: answered(String.raw`A bicycle has \boxed{2} wheels.`) },
      { responses_create_params: disagreeing.responses_create_params, response: answered(String.raw`\boxed{2}`) },
      { responses_create_params: judgeCall(agreeing.question, String.raw`\text{two}`, "2"), response: answered("Both say two. [[A=B]]") },
      { responses_create_params: judgeCall(agreeing.question, "2", String.raw`\text{two}`), response: answered("My final verdict is [[A=B]]") },
      { responses_create_params: judgeCall(disagreeing.question, String.raw`\text{three}`, "2"), response: answered("My final verdict is different [[A!=B]]") },
    ];
    const rollouts = path.join(dir, "judge_rollouts.jsonl");
    fs.writeFileSync(rollouts, recorded.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const config = path.join(dir, "mesh.yaml");
    fs.writeFileSync(
      config,
      [
        "instances:",
        "  mock_openai:",
        "    kind: mock_model",
        "    replay:",
        `      files: [${JSON.stringify(rollouts)}]`,
        "  policy_model:",
        "    kind: model",
        "    base_url: mock_openai",
        "    api_key: none",
        "    model: mock",
        "  judge_model:",
        "    kind: model",
        "    base_url: mock_openai",
        "    api_key: none",
        "    model: judge",
        "  math_with_judge:",
        "    kind: resources",
        "    environment: math_with_judge",
        "    settings:",
        "      should_use_judge: true",
        "      judge_model_server: {type: responses_api_models, name: judge_model}",
        "  math_with_judge_simple_agent:",
        "    kind: agent",
        "    agent: simple_agent",
        "    model: policy_model",
        "    resources: math_with_judge",
        "",
      ].join("\n"),
    );
    judged = await startEnvironmentMesh("math_with_judge", { file: config });
    scripted = await startEnvironmentMesh("math_with_judge");
  });
  afterAll(async () => {
    await judged?.close();
    await scripted?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("scores the stand-in model's boxless answer 0.0 with the default config (no judge)", async () => {
    const { rollout } = await scripted.agent("math_with_judge_simple_agent").run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(rollout!.verdict)).toEqual({ expected_answer: "32", extracted_answer: null, library_reward: 0, judge_evaluations: null });
  });

  it("takes the judge's 'equal' in both orders as reward 1.0 where the library says 0.0", async () => {
    const { rollout } = await judged.agent("math_with_judge_simple_agent").run({ input: { case: "task", value: taskFromJson(agreeing) } });
    const fields = verdictFields(rollout!.verdict) as Json;
    expect(rollout!.verdict!.reward).toBe(1);
    expect(fields.library_reward).toBe(0);
    expect(fields.extracted_answer).toBe("2");
    expect(fields.judge_evaluations).toHaveLength(2);
    expect(fields.judge_evaluations[0].responses_create_params.input[1].content).toBe(judgePrompt(agreeing.question, String.raw`\text{two}`, "2"));
    expect(fields.judge_evaluations[1].response.output[0].content[0].text).toBe("My final verdict is [[A=B]]");
  });

  it("stops at the judge's first 'different': 0.0 with one evaluation", async () => {
    const { rollout } = await judged.agent("math_with_judge_simple_agent").run({ input: { case: "task", value: taskFromJson(disagreeing) } });
    const fields = verdictFields(rollout!.verdict) as Json;
    expect(rollout!.verdict!.reward).toBe(0);
    expect(fields.judge_evaluations).toHaveLength(1);
    expect(fields.judge_evaluations[0].response.output[0].content[0].text).toContain("[[A!=B]]");
  });
});
