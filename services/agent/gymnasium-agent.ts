// NeMo Gym's gymnasium_agent (as of NeMo Gym 0.7.0): Reset the environment
// (its observation joins the input as a user message), then alternate one
// model turn and one Step until the environment says terminated or truncated,
// or the step limit (then the rollout is truncated). A step that goes on adds
// its info.tool_outputs and observation to the conversation; the last does not. The reward is the sum of the step rewards;
// terminated, truncated and the last step's info are written beside it, and
// so is the request with the reset's observation in its input (NeMo Gym's
// responses_create_params of the result).
import { randomUUID } from "node:crypto";
import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ItemSchema, ResponseSchema, UsageSchema, type Item, type Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { RolloutSchema, VerdictSchema, type Rollout, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import { log } from "../mesh/log.js";
import { jsonObjectOf, paramsToJson } from "../openai/responses-json.js";
import {
  addUsage,
  callModel,
  inputItems,
  requestWith,
  rolloutDeadline,
  totalMs,
  Stopwatch,
  taskParams,
  userMessage,
  type AgentDeps,
  type RunOptions,
} from "./rollout-parts.js";

export async function runGymnasiumAgent(deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions = {}): Promise<Rollout> {
  const params = taskParams(task);
  rolloutId ||= randomUUID();
  const deadline = rolloutDeadline(deps, options, rolloutId);
  const clock = new Stopwatch();

  const episodes = deps.episodes;
  if (!episodes) throw new ConnectError(`${deps.name}: a gymnasium_agent needs the environment's EpisodeService`, Code.FailedPrecondition);
  const reset = await clock.time("tools", episodes.reset({ task }, deadline.call("reset")));
  let open = true;
  try {
    const input = inputItems(params.input);
    if (reset.observation) input.push(userMessage(reset.observation));
    const outputs: Item[] = [];
    const emit = (item: Item) => {
      outputs.push(item);
      options.onItem?.(item);
    };
    const usage = create(UsageSchema);
    let last: Response | undefined;
    let total = 0;
    let terminated = false;
    let truncated = true;
    let info: JsonObject = {};
    let turns = 0;

    while (deps.maxSteps <= 0 || turns < deps.maxSteps) {
      turns++;
      const response = await clock.time("model", callModel(deps, requestWith(params, [...input, ...outputs]), rolloutId, deadline));
      last = response;
      addUsage(usage, response.usage);
      response.output.forEach(emit);

      const step = await clock.time("verify", episodes.step({ episodeId: reset.episodeId, task, response }, deadline.call("step")));
      total += step.reward;
      info = jsonObjectOf(step.infoJson, "info_json");
      if (step.terminated || step.truncated) {
        // The environment closed the session with the episode. As NeMo Gym's
        // agent, the last step's tool outputs and observation are not added.
        open = false;
        terminated = step.terminated;
        truncated = step.truncated;
        break;
      }
      for (const out of toolOutputs(info)) emit(out);
      if (step.observation) emit(userMessage(step.observation));
    }

    if (!last) throw new ConnectError(`${deps.name}: the episode ended before any model turn`, Code.Internal);
    const final = create(ResponseSchema, { ...last, output: outputs, usage });
    // As 0.7.0's result, the request as the episode ran it (the reset's observation in its
    // input) replaces the row's responses_create_params in the output line when it differs.
    const ran = reset.observation || params.input.case === "inputText" ? { responses_create_params: paramsToJson(requestWith(params, input)) } : {};
    const verdict = create(VerdictSchema, { reward: total, extraJson: JSON.stringify({ terminated, truncated, info, ...ran }) });
    const timings = clock.finish();
    log.info("rollout_done", { agent: deps.name, rollout_id: rolloutId, steps: turns, reward: total, ms: totalMs(timings) });
    return create(RolloutSchema, { rolloutId, task, response: final, verdict, steps: turns, timings });
  } finally {
    if (open) {
      episodes.closeEpisode({ episodeId: reset.episodeId }).catch((err: Error) =>
        log.warn("close_episode_failed", { agent: deps.name, rollout_id: rolloutId, message: err.message }),
      );
    }
  }
}

/** `info.tool_outputs` ([{call_id, output}]) as function_call_output items, as NeMo Gym's agent adds them. */
function toolOutputs(info: JsonObject): Item[] {
  const list = info.tool_outputs;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: JsonValue) => {
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) return [];
    const callId = typeof entry.call_id === "string" ? entry.call_id : "";
    const output = typeof entry.output === "string" ? entry.output : JSON.stringify(entry.output ?? null);
    return [create(ItemSchema, { kind: { case: "functionCallOutput", value: { callId, output } } })];
  });
}
