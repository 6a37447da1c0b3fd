// NeMo Gym's simple_agent (as of NeMo Gym 0.7.0): seed a session, then call
// the model and run its tool calls until a turn has no tool call (an answer,
// but also an empty or reasoning-only turn, which marks the response
// incomplete), the model reports the response incomplete (length), or the
// step limit; then verify. The trajectory is every output item of every step.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ItemSchema, ResponseSchema, ResponseStatus, Role, UsageSchema, type FunctionCall, type Item, type Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { RolloutSchema, type Rollout, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import { pythonJsonDumps } from "../pycompat/json-dumps.js";
import { JSONDecodeError, pyJsonLoads } from "../pycompat/json-loads.js";
import { pyReprString } from "../pycompat/str.js";
import { log } from "../mesh/log.js";
import { jsonObjectOf } from "../openai/responses-json.js";
import {
  addUsage,
  callModel,
  closeQuietly,
  inputItems,
  requestWith,
  Stopwatch,
  rolloutDeadline,
  totalMs,
  taskParams,
  type AgentDeps,
  type Deadline,
  type RunOptions,
} from "./rollout-parts.js";

export type { AgentDeps, RunOptions } from "./rollout-parts.js";

export async function runSimpleAgent(deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions = {}): Promise<Rollout> {
  const params = taskParams(task);
  rolloutId ||= randomUUID();
  const deadline = rolloutDeadline(deps, options, rolloutId);
  const clock = new Stopwatch();

  const { sessionId } = await deps.resources.seedSession({ task }, deadline.call("seeding the session"));
  try {
    const input = inputItems(params.input);
    const outputs: Item[] = [];
    const emit = (item: Item) => {
      outputs.push(item);
      options.onItem?.(item);
    };
    let last: Response | undefined;
    const usage = create(UsageSchema);
    let steps = 0;

    for (;;) {
      steps++;
      const response = await clock.time("model", callModel(deps, requestWith(params, [...input, ...outputs]), rolloutId, deadline));
      last = response;
      addUsage(usage, response.usage);
      response.output.forEach(emit);

      // Cut short by the model (incomplete_details, e.g. max_output_tokens): its tool calls are not run.
      if (isReportedIncomplete(response)) break;
      const calls = response.output.flatMap((i) => (i.kind.case === "functionCall" ? [i.kind.value] : []));
      if (calls.length === 0) {
        const answered = response.output.some((i) => i.kind.case === "message" && i.kind.value.role === Role.ASSISTANT);
        if (!answered) {
          markTerminated(response);
          log.warn("rollout_ended_without_answer", { agent: deps.name, rollout_id: rolloutId, step: steps, reason: terminationReason(response) });
        }
        break;
      }
      for (const fc of calls) emit(await clock.time("tools", runTool(deps, sessionId, fc, deadline)));
      if (deps.maxSteps > 0 && steps >= deps.maxSteps) break;
    }

    const final = create(ResponseSchema, { ...last, output: outputs, usage });
    const { verdict } = await clock.time("verify", deps.resources.verify({ sessionId, task, response: final }, deadline.call("verify")));
    const timings = clock.finish();
    log.info("rollout_done", { agent: deps.name, rollout_id: rolloutId, steps, reward: verdict?.reward, ms: totalMs(timings) });
    return create(RolloutSchema, { rolloutId, task, response: final, verdict, steps, timings });
  } finally {
    closeQuietly(deps, sessionId, (err) => log.warn("close_session_failed", { agent: deps.name, rollout_id: rolloutId, message: err.message }));
  }
}

/** The model said it stopped early (`incomplete_details` set, as for finish_reason "length"). */
function isReportedIncomplete(response: Response): boolean {
  const details = jsonObjectOf(response.extraJson).incomplete_details;
  return details !== undefined && details !== null;
}

function terminationReason(response: Response): "incomplete_reasoning" | "empty_output" {
  return response.output.length > 0 ? "incomplete_reasoning" : "empty_output";
}

const TERMINATION_MESSAGE =
  "The trajectory ended on a model turn with neither an assistant message nor a tool call " +
  "(empty or reasoning-only output) although the model reported no truncation: a stop, not a " +
  "length cut (that one sets incomplete_details). Either the model needs training-level fixes " +
  "or the inference engine has a bug.";

/**
 * A turn without an answer or a tool call ends the rollout as NeMo Gym's
 * simple_agent ends it: the response is `incomplete`, and its metadata says
 * why (`ng_termination_reason`: incomplete_reasoning or empty_output).
 */
function markTerminated(response: Response): void {
  const extra = jsonObjectOf(response.extraJson);
  const metadata = extra.metadata && typeof extra.metadata === "object" && !Array.isArray(extra.metadata) ? extra.metadata : {};
  extra.metadata = { ...metadata, ng_termination_reason: terminationReason(response), ng_termination_message: TERMINATION_MESSAGE };
  response.extraJson = JSON.stringify(extra);
  response.status = ResponseStatus.INCOMPLETE;
}

// The model's mistakes (unknown tool, bad arguments, a call the tool refuses
// or fails on) go back to the model as the tool's output, as NeMo Gym's agent
// does; transport failures, deadlines and cancellation fail the rollout.
const FED_BACK = new Set([Code.NotFound, Code.InvalidArgument, Code.FailedPrecondition, Code.Internal]);

/** Runs one tool call and returns its output item. */
async function runTool(deps: AgentDeps, sessionId: string, fc: FunctionCall, deadline: Deadline): Promise<Item> {
  const output = invalidArguments(fc.arguments) ?? (await callTool(deps, sessionId, fc, deadline));
  return create(ItemSchema, { kind: { case: "functionCallOutput", value: { callId: fc.callId, output } } });
}

/**
 * Arguments Python's json.loads refuses never reach the tool: the model gets
 * NeMo Gym 0.7.0's output for them, `{"error": "Invalid tool call arguments:
 * JSONDecodeError('Expecting value: line 1 column 1 (char 0)')"}`.
 */
function invalidArguments(args: string): string | undefined {
  try {
    pyJsonLoads(args);
    return undefined;
  } catch (err) {
    if (!(err instanceof JSONDecodeError)) throw err;
    return pythonJsonDumps({ error: `Invalid tool call arguments: JSONDecodeError(${pyReprString(err.message)})` });
  }
}

async function callTool(deps: AgentDeps, sessionId: string, fc: FunctionCall, deadline: Deadline): Promise<string> {
  try {
    return (await deps.resources.callTool({ sessionId, name: fc.name, arguments: fc.arguments, callId: fc.callId }, deadline.call(`tool ${fc.name}`))).output;
  } catch (err) {
    const error = ConnectError.from(err);
    if (!FED_BACK.has(error.code)) throw error;
    return pythonJsonDumps({ error: error.rawMessage });
  }
}
