import { Code, ConnectError } from "@connectrpc/connect";
import { localClient } from "../../mesh/local-transport.js";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import mcqa from "./environment.js";
import { environmentSettings } from "../../resources/environment.js";
import type { GradingMode } from "./grading.js";

type Json = Record<string, any>;

const readJsonl = (name: string): Json[] =>
  fs
    .readFileSync(new URL(`./data/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

/** The ResourcesService host running `env`, called through an in-memory transport. */
function hosted(settings: Json = {}) {
  return localClient(ResourcesService, createResourcesService(mcqa, { settings }));
}

const resources = hosted();

function answer(...texts: string[]): Json {
  return {
    id: "resp_test",
    created_at: 0,
    model: "dummy",
    object: "response",
    output: texts.map((text, i) => ({ id: `msg_${i}`, type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] })),
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
  };
}

const ABCD = [{ A: "opt1" }, { B: "opt2" }, { C: "opt3" }, { D: "opt4" }];

async function verify(row: Json, response: Json, client = resources) {
  const { verdict } = await client.verify({ task: taskFromJson(row), response: responseFromJson(response) });
  return { reward: verdict!.reward, extra: verdictFields(verdict) };
}

describe("mcqa verify cases (data/verify_cases.jsonl)", () => {
  const cases = readJsonl("verify_cases.jsonl");

  it("covers a full reward, a zero reward and malformed input", () => {
    expect(cases.some((c) => c.reward === 1)).toBe(true);
    expect(cases.some((c) => c.reward === 0)).toBe(true);
    expect(cases.some((c) => typeof c.error === "string")).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const run = async () => verify(c.task, c.response);
      if (c.error !== undefined || c.expected_error !== undefined) {
        const err = await run().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err, "expected an error").toBeInstanceOf(Error);
        if (c.expected_error !== undefined) {
          // A gRPC code name (verify-cases.ts's format).
          expect(ConnectError.from(err).code).toBe(Code[c.expected_error.replace(/(^|_)(\w)/g, (_m: string, _s: string, ch: string) => ch.toUpperCase()) as keyof typeof Code]);
          return;
        }
        expect(err!.message).toContain(c.error);
        if (err instanceof ConnectError) expect(err.code).toBe(Code.InvalidArgument);
        return;
      }
      const { reward, extra } = await run();
      expect(reward).toBe(c.reward);
      if (c.expected_extra) expect(extra).toMatchObject(c.expected_extra);
    });
  }
});

describe("mcqa against NeMo Gym's stored rollouts (data/example_rollouts.jsonl)", () => {
  const rows = readJsonl("example.jsonl");
  const rollouts = readJsonl("example_rollouts.jsonl");
  const rowFor = (rollout: Json) => {
    const input = JSON.stringify(rollout.responses_create_params.input.map((m: Json) => ({ role: m.role, content: m.content })));
    const row = rows.find((r) => JSON.stringify(r.responses_create_params.input) === input);
    if (!row) throw new Error("rollout has no task row in example.jsonl");
    return row;
  };

  it("gives the stored reward and extracted answer, except the stale third line", async () => {
    expect(rollouts).toHaveLength(5);
    for (const [i, rollout] of rollouts.entries()) {
      const { reward, extra } = await verify(rowFor(rollout), rollout.response);
      if (i === 2) continue; // checked below
      expect({ line: i + 1, reward, extracted: extra?.extracted_answer }).toEqual({ line: i + 1, reward: rollout.reward, extracted: rollout.extracted_answer });
      expect(extra?.expected_answer).toBe(rollout.expected_answer);
    }
  });

  it("reads the stale line's \\boxed{\\nC: ...} as C, as the current NeMo Gym code does (stored 0.0 predates it)", async () => {
    const rollout = rollouts[2]!;
    expect(rollout.reward).toBe(0);
    expect(rollout.response.output.at(-1).content[0].text).toMatch(/\\boxed\{\nC: /);
    const { reward, extra } = await verify(rowFor(rollout), rollout.response);
    expect(reward).toBe(1);
    expect(extra?.extracted_answer).toBe("C");
  });
});

describe("mcqa template_metadata rows (data/example_with_template_metadata.jsonl)", () => {
  // How each template asks the model to end its answer.
  const endings: Record<string, (letter: string) => string> = {
    mcqa_benchmark_001: (l) => `Answer: \\boxed{${l}}`,
    mcqa_generated_027: (l) => `Option Selected: ${l}`,
    mcqa_benchmark_002: (l) => `Answer: ${l}`,
    mcqa_generated_019: (l) => `ANSWER IS ${l}`,
    mcqa_generated_015: (l) => `Final Choice: ${l}`,
  };
  const rows = readJsonl("example_with_template_metadata.jsonl");

  it("rewards the template's own answer format with the gold letter, and only the gold letter", async () => {
    expect(rows.map((r) => r.template_metadata.template_id).sort()).toEqual(Object.keys(endings).sort());
    for (const row of rows) {
      const end = endings[row.template_metadata.template_id]!;
      const wrong = row.expected_answer === "A" ? "B" : "A";
      const right = await verify(row, answer(`Let me think.\n\n${end(row.expected_answer)}`));
      expect({ id: row.template_metadata.template_id, ...right }).toMatchObject({ reward: 1, extra: { extracted_answer: row.expected_answer } });
      const bad = await verify(row, answer(`I first thought ${end(row.expected_answer)}, but no.\n\n${end(wrong)}`));
      expect({ id: row.template_metadata.template_id, ...bad }).toMatchObject({ reward: 0, extra: { extracted_answer: wrong } });
    }
  });

  it("falls back to the grading mode when the template's format is missing", async () => {
    const row = rows.find((r) => r.template_metadata.template_id === "mcqa_generated_027")!;
    expect((await verify(row, answer(`\\boxed{${row.expected_answer}}`))).reward).toBe(1);
    expect((await verify(row, answer(`The answer is ${row.expected_answer}.`))).reward).toBe(0);
  });
});

describe("mcqa server-wide grading mode (NeMo Gym's config grading_mode)", () => {
  const row = (expected: string, extra: Json = {}) => ({ responses_create_params: { input: [{ role: "user", content: "Q?" }] }, options: ABCD, expected_answer: expected, grading_mode: "strict_single_letter_boxed", ...extra });
  const withMode = (mode: GradingMode) => hosted({ grading_mode: mode });

  it("overrides the row's grading mode", async () => {
    const text = "I think the answer is B.\n\nAnswer: B";
    expect((await verify(row("B"), answer(text), withMode("lenient_answer_colon"))).extra?.extracted_answer).toBe("B");
    expect((await verify(row("B"), answer(text))).extra?.extracted_answer).toBe(null);
  });

  const md = withMode("lenient_answer_colon_md");
  const cases: [string, string, string | null][] = [
    ["plain Answer: line", "The answer is B.\n\nAnswer: B", "B"],
    ["markdown bold", "Reasoning here.\n\n**Answer: C**", "C"],
    ["markdown underscores", "__Answer__: A", "A"],
    ["no answer line", "I think it might be B but I'm not sure", null],
    ["the last answer line that names a letter", "Answer: A\n...\nAnswer: D", "D"],
    ["a leading letter with a reason", "Answer: B because it is", "B"],
    ["the last standalone capital", "Answer: the correct one is C.", "C"],
    ["two letters offered as a list are ambiguous", "Answer: A or B", null],
    ["a localized letter", "Answer: ب", "B"],
    ["a full-width letter", "Answer: Ｃ", "C"],
    ["a letter outside the options", "Answer: E", null],
  ];
  for (const [what, text, expected] of cases) {
    it(`lenient_answer_colon_md: ${what}`, async () => {
      const { reward, extra } = await verify(row(expected ?? "B"), answer(text), md);
      expect(extra?.extracted_answer).toBe(expected);
      expect(reward).toBe(expected === null ? 0 : 1);
    });
  }

  it("lenient_answer_colon_md reads the row's answer_prefix, then a boxed letter", async () => {
    const prefixed = row("C", { template_metadata: { answer_prefix: "Respuesta final:" } });
    expect((await verify(prefixed, answer("Pienso...\nRESPUESTA FINAL: C\n"), md)).extra?.extracted_answer).toBe("C");
    expect((await verify(prefixed, answer("Pienso... \\boxed{C}"), md)).extra?.extracted_answer).toBe("C");
    expect((await verify(row("C"), answer("Pienso... \\boxed{C}"), md)).extra?.extracted_answer).toBe(null);
  });

  it("rejects an unknown server-wide mode", () => {
    expect(() => environmentSettings(mcqa, { grading_mode: "fuzzy" })).toThrow(/grading_mode/);
    expect(() => hosted({ grading_mode: "fuzzy" })).toThrow(/grading_mode/);
  });
});

describe("mcqa service surface", () => {
  it("offers no tools and checks rows against its task schema", async () => {
    expect((await resources.listTools({})).tools).toEqual([]);
    expect(mcqa.taskSchema?.safeParse({ options: ABCD, expected_answer: "B" }).success).toBe(true);
    expect(mcqa.taskSchema?.safeParse({ grading_mode: null }).success).toBe(false);
  });

  it("verifies within a seeded session too", async () => {
    const row = readJsonl("example.jsonl")[0]!;
    const { sessionId } = await resources.seedSession({ task: taskFromJson(row) });
    const { verdict } = await resources.verify({ sessionId, response: responseFromJson(answer(`\\boxed{${row.expected_answer}}`)) });
    expect(verdict?.reward).toBe(1);
  });
});

describe("mcqa Python regexes it cannot run", () => {
  it("refuses an output_regex using Python-only syntax instead of guessing", async () => {
    const row = { responses_create_params: { input: [] }, options: ABCD, expected_answer: "B", template_metadata: { output_regex: "(?>Answer): ([A-D])" } };
    await expect(verify(row, answer("Answer: B"))).rejects.toMatchObject({ code: Code.Unimplemented, rawMessage: expect.stringContaining("atomic group") });
  });
});
