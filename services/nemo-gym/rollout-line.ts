// NeMo Gym's rollout output line: the dataset row as it came, plus the
// response, the reward and the verifier's fields, and gym-mesh's bookkeeping
// (`_ng_task_index`, `_ng_rollout_index`, `agent_ref`, steps, tries, timings,
// `_ng_trace_id` when traced). One
// builder serves `gym collect`, Collect's and Run's raw results alike, so
// every client gets the same line.
import type { JsonObject } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Rollout, Task } from "../../gen/gymmesh/v1/task_pb.js";
import { jsonTooDeep, tooDeepMessage } from "../mesh/json-depth.js";
import { DEFAULT_LIMITS } from "../mesh/kind.js";
import { JsonShapeError, responseToJson, taskFromJson, verdictFields } from "../openai/responses-json.js";

export interface LineIds {
  /** The task's index in its dataset. */
  taskIndex?: number;
  /** Which repeat of the task, from 0. */
  repeat?: number;
  /** The agent instance that ran it. */
  agent?: string;
}

export function rolloutLine(row: JsonObject, rollout: Rollout, ids: LineIds = {}): JsonObject {
  const t = rollout.timings;
  const ms = (d: typeof t extends undefined ? never : NonNullable<typeof t>["model"]) => (d ? durationMs(d) : 0);
  return {
    ...row,
    response: rollout.response ? responseToJson(rollout.response) : null,
    reward: rollout.verdict?.reward ?? 0,
    ...verdictFields(rollout.verdict),
    ...(ids.taskIndex !== undefined ? { _ng_task_index: ids.taskIndex } : {}),
    ...(ids.repeat !== undefined ? { _ng_rollout_index: ids.repeat } : {}),
    ...(ids.agent ? { agent_ref: { name: ids.agent } } : {}),
    _ng_steps: rollout.steps,
    _ng_attempts: rollout.attempts || 1,
    _ng_timings_ms: { model: ms(t?.model), tools: ms(t?.tools), verify: ms(t?.verify), total: ms(t?.total) },
    // The rollout's trace (OpenTelemetry), only when the mesh traces.
    ...(rollout.traceId ? { _ng_trace_id: rollout.traceId } : {}),
  };
}

/** A dataset line sent as JSON text: the row object and its task; INVALID_ARGUMENT says what is wrong (over-deep JSON too). */
export function rowFromJsonText(text: string, maxDepth = DEFAULT_LIMITS.max_json_depth): { row: JsonObject; task: Task } {
  if (jsonTooDeep(text, maxDepth)) throw new ConnectError(`row_json: ${tooDeepMessage("the row", maxDepth)}`, Code.InvalidArgument);
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch (err) {
    throw new ConnectError(`row_json: not valid JSON: ${(err as Error).message}`, Code.InvalidArgument);
  }
  try {
    return { row: row as JsonObject, task: taskFromJson(row) };
  } catch (err) {
    if (err instanceof JsonShapeError) throw new ConnectError(`row_json: ${err.message}`, Code.InvalidArgument);
    throw err;
  }
}

/** The agent a row names (`agent_ref.name`), or undefined. */
export function rowAgent(row: JsonObject): string | undefined {
  const ref = row.agent_ref;
  return ref && typeof ref === "object" && !Array.isArray(ref) && typeof ref.name === "string" ? ref.name : undefined;
}
