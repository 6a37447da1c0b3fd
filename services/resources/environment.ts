// The environment SDK: an environment declares its tools (zod schemas, which
// also become the JSON schemas the model sees), its per-session state and its
// verifier; or, for multi-turn environments, `reset` and `step` in the
// gymnasium style. The ResourcesService host (host.ts) runs it.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { z } from "zod";
import type { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import type { Response } from "../../gen/gymmesh/v1/responses_pb.js";
import type { Task } from "../../gen/gymmesh/v1/task_pb.js";
import { taskExtra } from "../openai/responses-json.js";

export interface ToolContext<State, Settings = any> {
  state: State;
  task: Task;
  /** The instance's settings for this environment (its `settings` schema, parsed). */
  settings: Settings;
}

export interface Tool<State = unknown> {
  name: string;
  description: string;
  /** The arguments' schema; invalid arguments never reach `run`. */
  args: z.ZodType;
  /** Returns the output fed back to the model: a string as is, anything else as JSON. */
  run(args: never, ctx: ToolContext<State>): unknown;
}

/** A client of a model instance (ModelService), e.g. an LLM judge. */
export type ModelClient = Client<typeof ModelService>;

export interface VerifyInput<State, Settings = any> {
  task: Task;
  settings: Settings;
  /** The finished response: every output item of the rollout. */
  response: Response;
  state: State;
  /**
   * A client of a model instance the environment names in `models(settings)`
   * (e.g. an LLM judge); absent where the host has no mesh (unit tests without one).
   */
  model?: (name: string) => ModelClient;
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

export interface ResetInput<State, Settings = any> {
  task: Task;
  settings: Settings;
  state: State;
}

export interface ResetResult {
  /** Appended to the task's input as a user message when set. */
  observation?: string;
  info?: JsonObject;
}

export interface StepInput<State, Settings = any> {
  task: Task;
  settings: Settings;
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

export interface Environment<State = unknown, Settings = any> {
  name: string;
  description: string;
  tools: Tool<State>[];
  /**
   * The environment's own settings, set per resources instance under
   * `settings:` in the config (NeMo Gym's server config fields). Defaults
   * come from the schema; `gym envs` lists them.
   */
  settings?: z.ZodType<Settings>;
  /**
   * The row's own fields (beside responses_create_params), when the
   * environment needs some: `gym check-data` validates datasets against it,
   * and `taskFields(task, schema)` reads them in the verifier.
   */
  taskSchema?: z.ZodType;
  /**
   * True when the tools a row offers are the model's to call and never run
   * here (the verifier compares the calls, as with tool_simulation_agent):
   * `gym check-data` then does not look them up among `tools`.
   */
  simulatedTools?: boolean;
  /**
   * The model instances its verifier calls (e.g. a judge), named in its
   * settings: the config check requires each to be a model instance, and
   * `verify` reaches them through `model(name)`.
   */
  models?(settings: Settings): { field: string; name: string }[];
  /**
   * The error for a call of a tool it does not have, when NeMo Gym's server
   * answers such calls its own way (a catch-all tool route); by default
   * NOT_FOUND naming the tools it has.
   */
  unknownTool?(name: string): ConnectError;
  /** Per-session state, made from the task row when a session is seeded (or an episode reset). */
  createState?(task: Task, settings: Settings): State;
  verify(input: VerifyInput<State, Settings>): VerifyResult | Promise<VerifyResult>;
  /** Multi-turn environments: starts an episode (after createState). */
  reset?(input: ResetInput<State, Settings>): ResetResult | Promise<ResetResult>;
  /** Multi-turn environments: takes one model turn. Its presence makes the environment gymnasium-style. */
  step?(input: StepInput<State, Settings>): StepResult | Promise<StepResult>;
}

/** Environments by name (the built-in ones are found by folder under services/environments/). */
export type EnvironmentRegistry = Readonly<Record<string, Environment<any>>>;

/** Declares a tool with its arguments typed from the zod schema. */
export function defineTool<State, S extends z.ZodType>(tool: {
  name: string;
  description: string;
  args: S;
  run(args: z.infer<S>, ctx: ToolContext<State>): unknown;
}): Tool<State> {
  return tool as Tool<State>;
}

export function defineEnvironment<State, Settings = Record<string, never>>(env: Environment<State, Settings>): Environment<State, Settings> {
  return env;
}

/**
 * An instance's settings for `env`, parsed with its schema (defaults filled
 * in). Throws a ZodError for settings that do not fit, or an Error when the
 * environment has no settings but some were given.
 */
export function environmentSettings<Settings>(env: Environment<any, Settings>, raw: unknown = {}): Settings {
  if (env.settings) return env.settings.parse(raw ?? {});
  if (raw && typeof raw === "object" && Object.keys(raw).length > 0) {
    throw new Error(`${env.name} has no settings (got ${Object.keys(raw).join(", ")})`);
  }
  return {} as Settings;
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
  const parsed = schema.safeParse(taskExtra(task));
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
