// The task fields structured_outputs reads, checked as NeMo Gym's request
// model (pydantic, lax mode) checks them: a row it would reject with 422 is an
// INVALID_ARGUMENT here.
import { z } from "zod";
import type { Task } from "../../../gen/gymmesh/v1/task_pb.js";
import { laxInt, taskFields } from "../../resources/environment.js";

export const SCHEMA_TYPES = ["json", "yaml", "xml", "toml", "csv"] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

const BOOL_WORDS: Record<string, boolean> = { "0": false, off: false, f: false, false: false, n: false, no: false, "1": true, on: true, t: true, true: true, y: true, yes: true };

/** A lax boolean, as a pydantic `bool` field accepts one: booleans, 0/1 and words like "yes"/"off". */
function laxBool() {
  return z.preprocess((v) => {
    if (v === 0 || v === 1) return v === 1;
    if (typeof v === "string" && Object.hasOwn(BOOL_WORDS, v.toLowerCase())) return BOOL_WORDS[v.toLowerCase()];
    return v;
  }, z.boolean());
}

const text = () => z.string().nullish();

/** The row's own fields, as NeMo Gym's verify request model accepts them. */
export const structuredOutputsTaskSchema = z.looseObject({
  /** The JSON schema, as JSON text. */
  schema_str: z.string(),
  schema_type: z.enum(SCHEMA_TYPES).default("json"),
  /** "tool_call": the answer is one function call's arguments; anything else (default "text"): the answer text. */
  response_mode: z.string().nullable().default("text"),
  /** Tool-call mode: the tool that must be called (any when unset). */
  tool_name: text(),
  /** Tool-call mode: the arguments key that wraps the payload (none when unset). */
  tool_payload_key: text(),
  // Dataset metadata, type-checked only.
  problem_type: text(),
  schema_repr: text(),
  source_format: text(),
  source_record_id: text(),
  tool_schema_mode: text(),
  tool_choice: text(),
  source_schema_type: text(),
  instruction_layout: text(),
  instruction_detail_level: text(),
  system_instruction_style: text(),
  tool_name_style: text(),
  distractor_style: text(),
  tool_union_mode: text(),
  num_turns: laxInt().nullish(),
  num_tools: laxInt().nullish(),
  num_distractors: laxInt().nullish(),
  parallel_tool_calls: laxBool().nullish(),
  has_distractors: laxBool().nullish(),
});

export interface StructuredOutputsRow {
  schemaStr: string;
  schemaType: SchemaType;
  responseMode: string | null;
  toolName: string | null;
  toolPayloadKey: string | null;
}

export function readStructuredOutputsRow(task: Task): StructuredOutputsRow {
  const row = taskFields(task, structuredOutputsTaskSchema);
  return {
    schemaStr: row.schema_str,
    schemaType: row.schema_type,
    responseMode: row.response_mode,
    toolName: row.tool_name ?? null,
    toolPayloadKey: row.tool_payload_key ?? null,
  };
}
