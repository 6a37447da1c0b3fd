// What the helpers take and give: NeMo Gym rows (or typed tasks) in, output
// lines (or typed rollouts) and failures out.
import { create, isMessage, type JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Status } from "../../gen/google/rpc/status_pb.js";
import { CollectRequestSchema, type CollectRequest, type CollectResponse } from "../../gen/gymmesh/v1/rollout_pb.js";
import { RunRequestSchema, type RunRequest, type RunResponse } from "../../gen/gymmesh/v1/agent_pb.js";
import { TaskSchema, type Rollout, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import { codeName } from "./errors.js";

/**
 * A NeMo Gym dataset row: an object (`responses_create_params` plus the
 * environment's own fields), or one JSONL line as it is (sent unparsed).
 */
export type Row = string | { readonly [field: string]: unknown };

/** A row, or a typed task (`create(TaskSchema, {...})`), which gives typed rollouts. */
export type TaskOrRow = Row | Task;

/** Why one rollout failed: the server's google.rpc.Status. A failed rollout has no reward. */
export interface Failure {
  code: Code;
  /** "not_found", "invalid_argument"...: as `gym collect` writes it. */
  codeName: string;
  message: string;
  status?: Status;
}

/** What `run()` gives. */
export interface RunResult {
  /** The typed rollout: trajectory, verdict (reward and verifier fields), usage, timings. */
  rollout: Rollout;
  /** The rollout as a NeMo Gym output line, parsed: exactly what `gym collect` writes. */
  line: JsonObject;
  /** The same line as the server sent it (JSON text). */
  outputLineJson: string;
  reward: number;
  /** The agent instance that ran it (`agent_ref.name` of the line). */
  agent: string;
}

/** One finished rollout of `collect()`: an output line (or typed rollout), or a failure. */
export interface CollectResult {
  /** The task's position in the input, from 0 (`_ng_task_index`). */
  index: number;
  /** Which of its repeats this is, from 0 (`_ng_rollout_index`). */
  repeat: number;
  /** The agent instance that ran it. */
  agent: string;
  /**
   * For a row: on success the NeMo Gym output line as `gym collect` writes it
   * (the row plus `response`, `reward`, the verifier's fields, the indexes,
   * `agent_ref`); on failure the line `gym collect` writes to its failures
   * file (the row, the indexes, `error: {code, message}`). None for a typed task.
   */
  line?: JsonObject;
  /** For a typed task that succeeded: the typed rollout. */
  rollout?: Rollout;
  /** Set exactly when the rollout failed. */
  error?: Failure;
  ok: boolean;
  /** The reward; undefined for a failure. */
  reward?: number;
}

export function isTask(input: unknown): input is Task {
  return typeof input === "object" && input !== null && isMessage(input as never, TaskSchema);
}

/** A row as the JSON text of `row_json` (a string row is sent as it is). */
export function encodeRow(row: unknown, what: string): string {
  if (typeof row === "string") return row.trim();
  if (typeof row === "object" && row !== null && !Array.isArray(row)) {
    if ("$typeName" in row) throw new TypeError(`gym-mesh: ${what}: a ${String(row.$typeName)} message is not a row or a gymmesh.v1.Task`);
    try {
      return JSON.stringify(row);
    } catch (err) {
      throw new TypeError(`gym-mesh: ${what}: the row is not JSON: ${(err as Error).message}`);
    }
  }
  throw new TypeError(`gym-mesh: ${what}: expected a row (object or JSON line) or a gymmesh.v1.Task, got ${Array.isArray(row) ? "an array" : typeof row}`);
}

export function runRequest(input: TaskOrRow, rolloutId = ""): RunRequest {
  return create(RunRequestSchema, {
    input: isTask(input) ? { case: "task", value: input } : { case: "rowJson", value: encodeRow(input, "run") },
    rolloutId,
    wantOutputLine: true,
  });
}

export function runResult(response: RunResponse): RunResult {
  const line = response.outputLineJson ? (JSON.parse(response.outputLineJson) as JsonObject) : {};
  const rollout = response.rollout!;
  const reward = rollout?.verdict?.reward ?? (typeof line.reward === "number" ? line.reward : 0);
  const ref = line.agent_ref;
  const agent = typeof ref === "object" && ref !== null && !Array.isArray(ref) && typeof ref.name === "string" ? ref.name : "";
  return { rollout, line, outputLineJson: response.outputLineJson, reward, agent };
}

/** One rollout to run: a (task, repeat) and its request. */
export interface Unit {
  index: number;
  repeat: number;
  taskId: string;
  request: CollectRequest;
  /** The row as given (for failure lines); undefined for a typed task. */
  row?: Row;
}

/**
 * The repeats of one task: one request each (`num_repeats` 1, `first_repeat`
 * the repeat), so any subset of a group can be sent again and keeps its numbers.
 */
export function unitsOf(index: number, item: TaskOrRow, repeats: number, agent: string): Unit[] {
  const task = isTask(item);
  const input = task ? ({ case: "task", value: item } as const) : ({ case: "rowJson", value: encodeRow(item, `task ${index}`) } as const);
  const units: Unit[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const taskId = `${index}.${repeat}`;
    const request = create(CollectRequestSchema, {
      taskId,
      input,
      numRepeats: 1,
      firstRepeat: repeat,
      agent,
      taskIndex: BigInt(index),
      wantOutputLines: !task,
    });
    units.push({ index, repeat, taskId, request, row: task ? undefined : (item as Row) });
  }
  return units;
}

export function resultOf(unit: Unit, response: CollectResponse): CollectResult {
  const base = { index: unit.index, repeat: unit.repeat, agent: response.agent };
  const outcome = response.outcome;
  if (outcome.case === "outputLineJson") {
    const line = JSON.parse(outcome.value) as JsonObject;
    return { ...base, line, ok: true, reward: typeof line.reward === "number" ? line.reward : 0 };
  }
  if (outcome.case === "rollout") return { ...base, rollout: outcome.value, ok: true, reward: outcome.value.verdict?.reward ?? 0 };
  const error: Failure =
    outcome.case === "error"
      ? { code: outcome.value.code as Code, codeName: codeName(outcome.value.code as Code), message: outcome.value.message, status: outcome.value }
      : { code: Code.Unknown, codeName: "unknown", message: `the server sent a result without an outcome for task ${unit.index}` };
  return { ...base, ok: false, error, line: unit.row === undefined ? undefined : failureLine(unit, response.agent, error) };
}

/** The line `gym collect` writes to its failures file. */
function failureLine(unit: Unit, agent: string, failure: Failure): JsonObject {
  let row: unknown = unit.row;
  if (typeof row === "string") {
    try {
      row = JSON.parse(row);
    } catch {
      row = {};
    }
  }
  const fields = typeof row === "object" && row !== null && !Array.isArray(row) ? (row as JsonObject) : {};
  return {
    ...fields,
    _ng_task_index: unit.index,
    _ng_rollout_index: unit.repeat,
    agent_ref: { name: agent },
    error: { code: failure.codeName, message: failure.message },
  };
}
