// Pieces every agent kind uses: the task's input as items, the rollout's
// deadline, usage sums, and timing of the parts of a rollout.
import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import type { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import type { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import {
  ItemListSchema,
  ItemSchema,
  ResponseCreateParamsSchema,
  Role,
  type Item,
  type Response,
  type ResponseCreateParams,
  type Usage,
} from "../../gen/gymmesh/v1/responses_pb.js";
import { TimingsSchema, type Task, type Timings } from "../../gen/gymmesh/v1/task_pb.js";
import { jsonObjectOf } from "../openai/responses-json.js";
// Types only: agent-kinds imports the runners, which import this module.
import type { AgentKind } from "./agent-kinds.js";
import { Deadline } from "../mesh/deadline.js";

export type { AgentKind } from "./agent-kinds.js";
export type { CallOptions } from "../mesh/deadline.js";
export { Deadline } from "../mesh/deadline.js";

export interface AgentDeps {
  name: string;
  /** Which of NeMo Gym's agents this instance is; simple_agent when not given. */
  kind?: AgentKind;
  model: Client<typeof ModelService>;
  resources: Client<typeof ResourcesService>;
  /** Multi-turn environments: the same resources instance's EpisodeService. */
  episodes?: Client<typeof EpisodeService>;
  /** Model calls per rollout; 0 means no limit. */
  maxSteps: number;
  /** NeMo Gym rows in `row_json` nested deeper are INVALID_ARGUMENT (default: limits.max_json_depth's). */
  maxJsonDepth?: number;
  /** tool_simulation_agent: skip the verifier and give this reward instead. */
  skipVerification?: boolean;
  skipVerificationReward?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** The time the rollout has, from when it starts (the caller's deadline); none when absent. */
  timeoutMs?: number;
  /** Called with each output item (model output or tool output) as it happens. */
  onItem?: (item: Item) => void;
}

/**
 * The rollout's deadline, fixed when the rollout starts: every call it makes
 * gets `deadline.call(...)`, the time left then, never the whole budget again.
 */
export function rolloutDeadline(deps: AgentDeps, options: RunOptions, rolloutId: string): Deadline {
  return new Deadline({ timeoutMs: options.timeoutMs, signal: options.signal, name: deps.name, requestId: rolloutId });
}

export function taskParams(task: Task): ResponseCreateParams {
  const params = task.responsesCreateParams;
  if (!params) throw new ConnectError("task has no responses_create_params", Code.InvalidArgument);
  return params;
}

/** A user message in the short form datasets use (`{"role": "user", "content": "..."}`). */
export function userMessage(text: string): Item {
  return create(ItemSchema, { kind: { case: "message", value: { role: Role.USER, content: { case: "text", value: text }, untyped: true } } });
}

/** The request input as items; a plain string is one user message. */
export function inputItems(input: ResponseCreateParams["input"]): Item[] {
  if (input.case === "inputItems") return input.value.items;
  if (input.case === "inputText") return [userMessage(input.value)];
  return [];
}

/** The task's request with its input replaced by these items. */
export function requestWith(params: ResponseCreateParams, items: Item[]): ResponseCreateParams {
  return create(ResponseCreateParamsSchema, { ...params, input: { case: "inputItems", value: create(ItemListSchema, { items }) } });
}

/** One model call, given the time left before the deadline; a response-less answer is INTERNAL. */
export async function callModel(deps: AgentDeps, params: ResponseCreateParams, rolloutId: string, deadline: Deadline): Promise<Response> {
  const { response } = await deps.model.createResponse({ params }, deadline.call("a model call"));
  if (!response) throw new ConnectError(`${deps.name}: the model returned no response`, Code.Internal);
  return response;
}

export function addUsage(total: Usage, step: Usage | undefined): void {
  if (!step) return;
  total.inputTokens += step.inputTokens;
  total.outputTokens += step.outputTokens;
  total.totalTokens += step.totalTokens;
  // The token details (cached_tokens, reasoning_tokens) are summed too.
  const stepExtra = jsonObjectOf(step.extraJson);
  const totalExtra = jsonObjectOf(total.extraJson);
  let summed = false;
  for (const key of ["input_tokens_details", "output_tokens_details"]) {
    const details = stepExtra[key];
    if (!details || typeof details !== "object" || Array.isArray(details)) continue;
    const sum = (totalExtra[key] ??= {}) as Record<string, number>;
    for (const [k, v] of Object.entries(details)) if (typeof v === "number") sum[k] = (sum[k] ?? 0) + v;
    summed = true;
  }
  if (summed) total.extraJson = JSON.stringify(totalExtra);
}

/** Wall-clock time per part of a rollout. */
export class Stopwatch {
  private readonly ms = { model: 0, tools: 0, verify: 0 };
  private readonly started = performance.now();

  async time<T>(part: "model" | "tools" | "verify", work: Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work;
    } finally {
      this.ms[part] += performance.now() - t0;
    }
  }

  /** The timings so far, and the total. */
  finish(): Timings {
    const { model, tools, verify } = this.ms;
    return create(TimingsSchema, {
      model: duration(model),
      tools: duration(tools),
      verify: duration(verify),
      total: duration(performance.now() - this.started),
    });
  }
}

/** Closes a session on success and failure alike; a failure to close is only logged by the caller. */
export function closeQuietly(deps: AgentDeps, sessionId: string, onError: (err: Error) => void): void {
  deps.resources.closeSession({ sessionId }).catch(onError);
}

/** A Duration of fractional milliseconds, to the nanosecond. */
function duration(ms: number): Duration {
  const nanos = Math.round(ms * 1e6);
  const seconds = Math.floor(nanos / 1e9);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: nanos - seconds * 1e9 });
}

/** Whole milliseconds of a rollout's total time, for logs. */
export function totalMs(timings: Timings): number {
  const t = timings.total;
  return t ? Math.round(Number(t.seconds) * 1000 + t.nanos / 1e6) : 0;
}
