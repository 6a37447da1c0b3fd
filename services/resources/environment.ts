// The environment SDK: an environment declares its tools (zod schemas, which
// also become the JSON schemas the model sees), its per-session state and its
// verifier. The ResourcesService host (host.ts) runs it.
import type { JsonObject } from "@bufbuild/protobuf";
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
}

export interface Environment<State = unknown> {
  name: string;
  description: string;
  tools: Tool<State>[];
  /** Per-session state, made from the task row when a session is seeded. */
  createState?(task: Task): State;
  verify(input: VerifyInput<State>): VerifyResult | Promise<VerifyResult>;
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

/** The JSON schema of a tool's arguments, as offered to the model. */
export function argumentsJsonSchema(tool: Tool<never> | Tool<unknown>): JsonObject {
  const { $schema: _drop, ...schema } = z.toJSONSchema(tool.args) as JsonObject;
  return schema;
}
