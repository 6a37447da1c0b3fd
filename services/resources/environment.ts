// The environment SDK: an environment declares its tools (zod schemas, which
// also become the JSON schemas the model sees), its per-session state and its
// verifier; or, for multi-turn environments, `reset` and `step` in the
// gymnasium style. The ResourcesService host (host.ts) runs it.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import type { Response } from "../../gen/gym/v1/responses_pb.js";
import type { Task } from "../../gen/gym/v1/task_pb.js";

export interface ToolContext<State> {
  state: State;
  task: Task;
}

export interface Tool<State = unknown> {
  name: string;
  description: string;
  /** The arguments' schema; invalid arguments never reach `run`. */
  args: z.ZodType;
  /** Returns the output fed back to the model: a string as is, anything else as JSON. */
  run(args: never, ctx: ToolContext<State>): unknown;
}

export interface VerifyInput<State> {
  task: Task;
  /** The finished response: every output item of the rollout. */
  response: Response;
  state: State;
}

export interface VerifyResult {
  reward: number;
  /** Environment-specific fields written beside the reward. */
  extra?: JsonObject;
  /**
   * Named parts of the reward (NeMo Gym's multi-reward verifiers), written as
   * the `reward_components` field beside the reward.
   */
  rewardComponents?: Record<string, number>;
}

export interface ResetInput<State> {
  task: Task;
  state: State;
}

export interface ResetResult {
  /** Appended to the task's input as a user message when set. */
  observation?: string;
  info?: JsonObject;
}

export interface StepInput<State> {
  task: Task;
  /** The model's response of this turn. */
  response: Response;
  state: State;
}

export interface StepResult {
  /** The next user message, when the episode goes on with one. */
  observation?: string;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info?: JsonObject;
}

export interface Environment<State = unknown> {
  name: string;
  description: string;
  tools: Tool<State>[];
  /**
   * The row's own fields (beside responses_create_params), when the
   * environment needs some: `gym check-data` validates datasets against it,
   * and `taskFields(task, schema)` reads them in the verifier.
   */
  taskSchema?: z.ZodType;
  /** Per-session state, made from the task row when a session is seeded (or an episode reset). */
  createState?(task: Task): State;
  verify(input: VerifyInput<State>): VerifyResult | Promise<VerifyResult>;
  /** Multi-turn environments: starts an episode (after createState). */
  reset?(input: ResetInput<State>): ResetResult | Promise<ResetResult>;
  /** Multi-turn environments: takes one model turn. Its presence makes the environment gymnasium-style. */
  step?(input: StepInput<State>): StepResult | Promise<StepResult>;
}

/** Declares a tool with its arguments typed from the zod schema. */
export function defineTool<State, S extends z.ZodType>(tool: {
  name: string;
  description: string;
  args: S;
  run(args: z.infer<S>, ctx: ToolContext<State>): unknown;
}): Tool<State> {
  return tool as Tool<State>;
}

export function defineEnvironment<State>(env: Environment<State>): Environment<State> {
  return env;
}

/** True for gymnasium-style environments (driven by Reset and Step). */
export function isGymnasium(env: Environment<any>): boolean {
  return typeof env.step === "function";
}

/**
 * The verdict of a gymnasium-style environment's Verify: it has none, as in
 * NeMo Gym, where such servers answer /verify with an error.
 */
export function verifyByStepOnly(name: string): () => never {
  return () => {
    throw new ConnectError(`${name} is a multi-turn environment: it scores each turn with Step, not with Verify`, Code.FailedPrecondition);
  };
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** The JSON schema of a tool's arguments, as offered to the model. */
export function argumentsJsonSchema(tool: Tool<never> | Tool<unknown>): JsonObject {
  const { $schema: _drop, ...schema } = z.toJSONSchema(tool.args) as JsonObject;
  return dropSafeIntegerBounds(schema) as JsonObject;
}

// zod writes JS's safe-integer range on every integer; NeMo Gym's schemas
// (pydantic) say just {"type": "integer"}, and so do ours.
function dropSafeIntegerBounds(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(dropSafeIntegerBounds);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (value.type === "integer" && ((k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE))) continue;
    out[k] = dropSafeIntegerBounds(v);
  }
  return out;
}

/** An error in what the verifier was given (the task row or the response): INVALID_ARGUMENT, saying where. */
export function invalidInput(where: string, message: string): ConnectError {
  return new ConnectError(`${where}: ${message}`, Code.InvalidArgument);
}

/**
 * The task row's own fields (everything beside responses_create_params),
 * validated with a zod schema as NeMo Gym's verify request models do.
 * A row that does not fit is INVALID_ARGUMENT naming the field.
 */
export function taskFields<S extends z.ZodType>(task: Task, schema: S): z.infer<S> {
  const parsed = schema.safeParse(task.extra ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidInput(`task.${issue.path.length ? issue.path.join(".") : "(row)"}`, issue.message);
  }
  return parsed.data;
}

/**
 * A lax integer, as a pydantic `int` field accepts one: integers, floats
 * without a fractional part, integer strings (spaces and `_` allowed) and
 * booleans. Offered to the model as {"type": "integer"}.
 */
export function laxInt() {
  return z.preprocess((v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "string") {
      const t = v.trim();
      if (/^[+-]?\d+(_\d+)*(\.0*)?$/.test(t)) return Number(t.replace(/_/g, ""));
    }
    return v;
  }, z.int());
}
