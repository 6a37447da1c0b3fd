// mcqa, ported from NeMo Gym: multiple-choice questions graded by extracting
// the answer letter from the model's text (a \boxed{} letter, an "Answer:"
// line, or the row's own regex) and comparing it with the gold letter.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import type { Task } from "../../../gen/gymmesh/v1/task_pb.js";
import { defineEnvironment, invalidInput, taskFields } from "../../resources/environment.js";
import {
  allowedLetters,
  answerColonLetter,
  answerColonMarkdownLetter,
  boxedOptionText,
  customRegexLetter,
  GRADING_MODES,
  OutputRegexShapeError,
  strictBoxedLetter,
  type GradingMode,
  type OptionEntry,
} from "./grading.js";
import { outputText } from "../../openai/response-text.js";
import { UnsupportedPythonRegexError } from "../../pycompat/regex.js";
import { pyStrip } from "../../pycompat/str.js";

/** Grading modes a row may ask for; lenient_answer_colon_md is a server-wide setting only, as in NeMo Gym. */
const ROW_GRADING_MODES = ["strict_single_letter_boxed", "lenient_boxed", "lenient_answer_colon"] as const;

/** The instance's settings (NeMo Gym's server config). */
export const mcqaSettings = z.strictObject({
  /** Overrides every row's grading_mode; lenient_answer_colon_md is only available here. */
  grading_mode: z.enum(GRADING_MODES).optional(),
});

/** The row's own fields, as NeMo Gym's verify request model (pydantic) accepts them. */
export const mcqaTaskSchema = z.looseObject({
  uuid: z.string().nullish(),
  /** `[{"A": "text"}, {"B": "text"}, ...]`; a null text leaves the letter out. */
  options: z.array(z.record(z.string(), z.string().nullable())).nullish(),
  expected_answer: z.string().nullish(),
  /** Free-form; never read by the verifier. */
  metadata: z.record(z.string(), z.unknown()).nullish(),
  grading_mode: z.enum(ROW_GRADING_MODES).default("strict_single_letter_boxed"),
  /** `output_regex` (a Python regex or a list of them) overrides the grading mode; `answer_prefix` feeds lenient_answer_colon_md. */
  template_metadata: z.record(z.string(), z.unknown()).nullish(),
});

export interface McqaRow {
  options: OptionEntry[] | null;
  expectedAnswer: string | null;
  gradingMode: (typeof ROW_GRADING_MODES)[number];
  templateMetadata: JsonObject | null;
}

function bad(field: string, problem: string): ConnectError {
  return invalidInput(`task.${field}`, problem);
}

function describe(v: JsonValue | undefined): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}

export function readMcqaRow(task: Task): McqaRow {
  const row = taskFields(task, mcqaTaskSchema);
  return {
    options: row.options ?? null,
    expectedAnswer: row.expected_answer ?? null,
    gradingMode: row.grading_mode,
    templateMetadata: (row.template_metadata as JsonObject | null | undefined) ?? null,
  };
}

/** template_metadata.output_regex: a pattern or a list of patterns tried in order. */
function outputRegexes(templateMetadata: JsonObject): string | JsonValue[] {
  const v = templateMetadata.output_regex;
  if (typeof v === "string" || Array.isArray(v)) return v;
  throw bad("template_metadata.output_regex", `must be a regex string or a list of them, got ${describe(v)}`);
}

/** Python truthiness of a JSON value. */
function truthy(v: JsonValue | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== "object" || Object.keys(v).length > 0;
}

function answerPrefix(templateMetadata: JsonObject | null): string | null {
  const v = templateMetadata?.answer_prefix;
  if (!truthy(v)) return null;
  if (typeof v !== "string") throw bad("template_metadata.answer_prefix", `must be a string, got ${describe(v)}`);
  return v;
}

/** The predicted letter for `text` (already stripped, non-empty). */
export function extractAnswer(text: string, row: McqaRow, mode: GradingMode): string | null {
  const allowed = allowedLetters(row.options);
  let pred: string | null = null;
  // The row's own regex goes first; the grading mode is the fallback.
  const tm = row.templateMetadata;
  if (tm && truthy(tm) && Object.hasOwn(tm, "output_regex")) {
    try {
      pred = customRegexLetter(text, outputRegexes(tm), row.options, allowed);
    } catch (err) {
      if (err instanceof OutputRegexShapeError) throw bad("template_metadata.output_regex", err.message);
      if (err instanceof UnsupportedPythonRegexError) throw new ConnectError(`mcqa: task.template_metadata.output_regex: ${err.message}`, Code.Unimplemented);
      throw err;
    }
  }
  if (pred !== null) return pred;
  switch (mode) {
    case "strict_single_letter_boxed":
      return strictBoxedLetter(text, allowed);
    case "lenient_boxed":
      return strictBoxedLetter(text, allowed) ?? boxedOptionText(text, row.options, allowed);
    case "lenient_answer_colon":
      return answerColonLetter(text, row.options, allowed);
    case "lenient_answer_colon_md":
      return answerColonMarkdownLetter(text, allowed, answerPrefix(tm));
  }
}

const mcqa = defineEnvironment({
  name: "mcqa",
  description: "Multiple-choice questions: extract the answer letter and compare it with the gold letter",
  tools: [],
  taskSchema: mcqaTaskSchema,
  settings: mcqaSettings,
  verify: ({ task, response, settings }) => {
    const row = readMcqaRow(task);
    const gold = pyStrip(row.expectedAnswer ?? "").toUpperCase();
    const text = pyStrip(outputText(response));
    const extracted = text === "" ? null : extractAnswer(text, row, settings.grading_mode ?? row.gradingMode);
    const correct = extracted !== null && gold !== "" && extracted === gold;
    return { reward: correct ? 1 : 0, extra: { expected_answer: gold, extracted_answer: extracted } };
  },
});

export default mcqa;
