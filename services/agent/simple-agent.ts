// NeMo Gym's simple_agent: seed a session, then call the model and run its
// tool calls until it answers without calling a tool (or the step limit),
// then verify. The trajectory is every output item of every step.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ItemSchema, ResponseSchema, Role, UsageSchema, type FunctionCall, type Item, type Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { RolloutSchema, type Rollout, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import { pythonJsonDumps } from "../pycompat/json-dumps.js";
import { log } from "../mesh/log.js";
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

      const calls = response.output.flatMap((i) => (i.kind.case === "functionCall" ? [i.kind.value] : []));
      const answered = response.output.some((i) => i.kind.case === "message" && i.kind.value.role === Role.ASSISTANT);
      if (calls.length === 0 && (answered || response.output.length === 0)) break;
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

// The model's mistakes (unknown tool, bad arguments, a call the tool refuses
// or fails on) go back to the model as the tool's output, as NeMo Gym's agent
// does; transport failures, deadlines and cancellation fail the rollout.
const FED_BACK = new Set([Code.NotFound, Code.InvalidArgument, Code.FailedPrecondition, Code.Internal]);

/** Runs one tool call and returns its output item. */
async function runTool(deps: AgentDeps, sessionId: string, fc: FunctionCall, deadline: Deadline): Promise<Item> {
  const call = deadline.call(`tool ${fc.name}`);
  let output: string;
  try {
    ({ output } = await deps.resources.callTool({ sessionId, name: fc.name, arguments: fc.arguments, callId: fc.callId }, call));
  } catch (err) {
    const error = ConnectError.from(err);
    if (!FED_BACK.has(error.code)) throw error;
    output = pythonJsonDumps({ error: error.rawMessage });
  }
  return create(ItemSchema, { kind: { case: "functionCallOutput", value: { callId: fc.callId, output } } });
}
