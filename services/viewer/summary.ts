// One rollout line -> the few numbers and names the viewer filters, sorts
// and counts by. The server keeps only these (and the line's byte offset),
// never the line: a file of any size costs a few dozen bytes per line.
import { createHash } from "node:crypto";

/** Which file of a run a line came from: the rollouts, or `<stem>_failures.jsonl`. */
export type SourceKind = "rollouts" | "failures";

export interface LineSummary {
  /** `_ng_task_index`; lines without one get a task per distinct prompt (see `promptKey`). */
  task: number | undefined;
  /** The prompt's hash when the line has no `_ng_task_index`. */
  promptKey?: string;
  /** `_ng_rollout_index` (which repeat), or undefined (a failure of every repeat: a bad row). */
  repeat: number | undefined;
  agent: string;
  /** The verifier's reward; null for a failure (a failure has no reward, not reward 0). */
  reward: number | null;
  /** A failure's gRPC code name; "" for a rollout. */
  code: string;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  /** `_ng_timings_ms.total`. */
  latencyMs: number | null;
  /** Model turns: `_ng_steps`, else counted from the output items. */
  turns: number;
  /** Names of the tools the model called, sorted, without repeats. */
  tools: string[];
  attempts: number;
  /** `response.status`, with `incomplete_details.reason` when incomplete ("incomplete:max_output_tokens"). */
  finish: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "boolean" ? Number(v) : null);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);

/** A line that is not a JSON object reads as a failure with this code. */
export const UNREADABLE = "unreadable_line";

/** The summary of one line (its JSON text) of a rollouts or failures file. */
export function summarizeLine(text: string, kind: SourceKind): LineSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isObj(parsed)) return { ...EMPTY, tools: [], code: UNREADABLE };
  const line = parsed;
  const response = isObj(line.response) ? line.response : {};
  const usage = isObj(response.usage) ? response.usage : {};
  const output = Array.isArray(response.output) ? response.output.filter(isObj) : [];
  const task = int(line._ng_task_index);
  const error = isObj(line.error) ? line.error : undefined;
  const failed = kind === "failures" || (error !== undefined && line.response === undefined);
  const incomplete = isObj(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  const status = typeof response.status === "string" ? response.status : "";
  const timings = isObj(line._ng_timings_ms) ? line._ng_timings_ms : {};
  const agentRef = isObj(line.agent_ref) ? line.agent_ref : {};
  return {
    task,
    ...(task === undefined ? { promptKey: promptKey(line) } : {}),
    repeat: int(line._ng_rollout_index),
    agent: typeof agentRef.name === "string" ? agentRef.name : "",
    reward: failed ? null : num(line.reward),
    code: failed ? String(error?.code ?? "unknown") || "unknown" : "",
    inputTokens: num(usage.input_tokens),
    outputTokens: num(usage.output_tokens),
    totalTokens: num(usage.total_tokens) ?? sumOrNull(num(usage.input_tokens), num(usage.output_tokens)),
    latencyMs: num(timings.total),
    turns: int(line._ng_steps) ?? countTurns(output),
    tools: [...new Set(output.filter((i) => i.type === "function_call" && typeof i.name === "string").map((i) => i.name as string))].sort(),
    attempts: int(line._ng_attempts) ?? 1,
    finish: status && typeof incomplete === "string" ? `${status}:${incomplete}` : status,
  };
}

const EMPTY: LineSummary = {
  task: undefined,
  repeat: undefined,
  agent: "",
  reward: null,
  code: "",
  inputTokens: null,
  outputTokens: null,
  totalTokens: null,
  latencyMs: null,
  turns: 0,
  tools: [],
  attempts: 1,
  finish: "",
};

const sumOrNull = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);

/** Items a tool or the environment adds; any other item is the model's. */
const NOT_MODEL = new Set(["function_call_output", "computer_call_output", "custom_tool_call_output", "mcp_call_output"]);

/** Model turns in a response's output: a turn starts at the first model item and after each run of tool results. */
export function countTurns(output: Obj[]): number {
  let turns = 0;
  let inModel = false;
  for (const item of output) {
    const byModel = !NOT_MODEL.has(String(item.type)) && !(item.type === "message" && item.role !== undefined && item.role !== "assistant");
    if (byModel && !inModel) turns++;
    inModel = byModel;
  }
  return turns;
}

/**
 * A task key for lines without `_ng_task_index` (NeMo Gym's own older
 * output): the hash of the prompt, so repeats of one prompt form a group,
 * in one file and across two.
 */
function promptKey(line: Obj): string {
  const params = isObj(line.responses_create_params) ? line.responses_create_params : {};
  return createHash("sha1").update(JSON.stringify([params.input ?? null, params.instructions ?? null])).digest("hex").slice(0, 16);
}
