// The agents that call the model once and verify its answer as is, tool calls
// and all, without running any tool:
// - non_executing_simple_agent: seeds a session first (the verifier may read it);
// - tool_simulation_agent: no session; may skip the verifier and give a fixed reward.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { VerdictSchema, RolloutSchema, type Rollout, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import type { ResponseCreateParams } from "../../gen/gymmesh/v1/responses_pb.js";
import { log } from "../mesh/log.js";
import {
  callModel,
  closeQuietly,
  inputItems,
  requestWith,
  rolloutDeadline,
  totalMs,
  Stopwatch,
  taskParams,
  type AgentDeps,
  type Deadline,
  type RunOptions,
} from "./rollout-parts.js";

export async function runNonExecutingAgent(deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions = {}): Promise<Rollout> {
  rolloutId ||= randomUUID();
  const deadline = rolloutDeadline(deps, options, rolloutId);
  const { sessionId } = await deps.resources.seedSession({ task }, deadline.call("seeding the session"));
  try {
    return await callAndVerify(deps, task, rolloutId, sessionId, deadline, options);
  } finally {
    closeQuietly(deps, sessionId, (err) => log.warn("close_session_failed", { agent: deps.name, rollout_id: rolloutId, message: err.message }));
  }
}

export async function runToolSimulationAgent(deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions = {}): Promise<Rollout> {
  rolloutId ||= randomUUID();
  // As NeMo Gym 0.7.0: the row's request goes to the model as it is (a string input stays a string).
  return callAndVerify(deps, task, rolloutId, "", rolloutDeadline(deps, options, rolloutId), options, taskParams(task));
}

async function callAndVerify(
  deps: AgentDeps,
  task: Task,
  rolloutId: string,
  sessionId: string,
  deadline: Deadline,
  options: RunOptions,
  /** What the model gets; by default the task's request with its input as items. */
  request?: ResponseCreateParams,
): Promise<Rollout> {
  const params = taskParams(task);
  const clock = new Stopwatch();
  const response = await clock.time("model", callModel(deps, request ?? requestWith(params, inputItems(params.input)), rolloutId, deadline));
  response.output.forEach((item) => options.onItem?.(item));

  let verdict;
  if (deps.skipVerification) {
    verdict = create(VerdictSchema, { reward: deps.skipVerificationReward ?? 0, extraJson: JSON.stringify({ verification_skipped: true }) });
  } else {
    ({ verdict } = await clock.time("verify", deps.resources.verify({ sessionId, task, response }, deadline.call("verify"))));
  }
  const timings = clock.finish();
  log.info("rollout_done", { agent: deps.name, rollout_id: rolloutId, steps: 1, reward: verdict?.reward, ms: totalMs(timings) });
  return create(RolloutSchema, { rolloutId, task, response, verdict, steps: 1, timings });
}
