// Hosts one environment: ResourcesService (tools and verifier) and, for a
// multi-turn one, EpisodeService (gymnasium-style Reset/Step). Keeps
// per-session state (dropped on CloseSession/CloseEpisode, at the end of an
// episode, or after an idle timeout) and validates untrusted tool arguments.
import { clone, create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { FunctionToolSchema, Role, type Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { TaskSchema, VerdictSchema, type Task } from "../../gen/gymmesh/v1/task_pb.js";
import { roleName } from "../openai/responses-json.js";
import { argumentsJsonSchema, environmentSettings, invalidInput, isGymnasium, type Environment, type ModelClient, type Tool, type VerifyResult } from "./environment.js";
import { pythonJsonDumps } from "../pycompat/json-dumps.js";
import { SessionStore } from "./sessions.js";

export interface HostOptions {
  /** The environment's settings (its `settings` schema: defaults fill the gaps). */
  settings?: unknown;
  /** A session unused this long is dropped. Default 30 minutes; 0 keeps sessions until closed. */
  idleTimeoutMs?: number;
  /** Sessions (and episodes) open at once at most; more are RESOURCE_EXHAUSTED. None when absent. */
  maxSessions?: number;
  /** Bytes the open sessions' tasks may hold (serialized size); past it, RESOURCE_EXHAUSTED. None when absent. */
  maxSessionBytes?: number;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
  /** Clients of the model instances the environment's verifier calls (`Environment.models`). */
  model?: (name: string) => ModelClient;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;

export function createResourcesService(env: Environment<any>, options: HostOptions = {}): ServiceImpl<typeof ResourcesService> {
  return createResourcesHost(env, options).resources;
}

export interface ResourcesHost {
  /** Tools and verifier; FAILED_PRECONDITION for Verify of a multi-turn environment. */
  resources: ServiceImpl<typeof ResourcesService>;
  /** Reset/Step; FAILED_PRECONDITION unless the environment is multi-turn. */
  episodes: ServiceImpl<typeof EpisodeService>;
  /** True for a multi-turn environment: serve `episodes`, else `resources`. */
  multiTurn: boolean;
  /** Sessions and episodes open now (the sessions_open gauge). */
  openSessions: () => number;
}

export function createResourcesHost(env: Environment<any>, options: HostOptions = {}): ResourcesHost {
  const sessions = new SessionStore(env.name, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, options.now ?? Date.now, {
    maxSessions: options.maxSessions,
    maxBytes: options.maxSessionBytes,
  });
  const tools = new Map(env.tools.map((t) => [t.name, t]));
  const toolDefs = env.tools.map((t) =>
    create(FunctionToolSchema, {
      name: t.name,
      description: t.description,
      parametersJson: JSON.stringify(argumentsJsonSchema(t)),
      strict: true,
    }),
  );
  const gymnasium = isGymnasium(env);
  const settings = environmentSettings(env, options.settings);

  const newState = (task: Task) => guard(`${env.name}: creating the session state`, () => env.createState?.(task, settings));

  const resources: ServiceImpl<typeof ResourcesService> = {
    async seedSession(req) {
      const task = req.task ?? create(TaskSchema);
      const bytes = sessions.admit(task); // refused before its state is made
      return { sessionId: sessions.open(task, await newState(task), bytes) };
    },

    listTools() {
      // Copies: the in-process transport hands a response over as it is, and the caller may change it.
      return { tools: toolDefs.map((t) => clone(FunctionToolSchema, t)) };
    },

    async callTool(req) {
      const { task, state } = sessions.get(req.sessionId);
      const tool = tools.get(req.name);
      if (!tool) {
        throw env.unknownTool?.(req.name) ?? new ConnectError(`${env.name}: unknown tool "${req.name}" (tools: ${[...tools.keys()].join(", ") || "none"})`, Code.NotFound);
      }
      const args = parseArguments(tool, req.arguments);
      const output = await guard(`tool ${req.name} failed`, () => (tool.run as (a: unknown, c: unknown) => unknown)(args, { task, state, settings }));
      return { output: typeof output === "string" ? output : pythonJsonDumps(output) };
    },

    async verify(req) {
      if (!req.response) throw new ConnectError(`${env.name}: verify needs the response`, Code.InvalidArgument);
      checkOutputMessages(req.response);
      const found = req.sessionId ? sessions.get(req.sessionId) : undefined;
      const task = req.task ?? found?.task ?? create(TaskSchema);
      const result = await guard(`${env.name}: the verifier failed`, () => env.verify({ task, response: req.response!, state: found?.state, settings, model: options.model }));
      return { verdict: verdictOf(env.name, result) };
    },

    closeSession(req) {
      sessions.close(req.sessionId);
      return {};
    },
  };

  const episodes: ServiceImpl<typeof EpisodeService> = {
    async reset(req) {
      if (!gymnasium) throw notMultiTurn(env.name, "Reset");
      const task = req.task ?? create(TaskSchema);
      const bytes = sessions.admit(task);
      const state = await newState(task);
      const episodeId = sessions.open(task, state, bytes);
      try {
        const result = (await guard(`${env.name}: reset failed`, () => env.reset?.({ task, state, settings }))) ?? {};
        return { episodeId, observation: result.observation, infoJson: JSON.stringify(result.info ?? {}) };
      } catch (err) {
        sessions.close(episodeId);
        throw err;
      }
    },

    async step(req) {
      if (!gymnasium) throw notMultiTurn(env.name, "Step");
      if (!req.response) throw new ConnectError(`${env.name}: step needs the model's response`, Code.InvalidArgument);
      checkOutputMessages(req.response);
      const session = sessions.get(req.episodeId);
      const task = req.task ?? session.task;
      const result = await guard(`${env.name}: step failed`, () => env.step!({ task, response: req.response!, state: session.state, settings }));
      checkReward(env.name, result.reward);
      // An ended episode's state is dropped, as NeMo Gym's gymnasium servers do.
      if (result.terminated || result.truncated) sessions.close(req.episodeId);
      return {
        observation: result.observation,
        reward: result.reward,
        terminated: result.terminated,
        truncated: result.truncated,
        infoJson: JSON.stringify(result.info ?? {}),
      };
    },

    closeEpisode(req) {
      sessions.close(req.episodeId);
      return {};
    },
  };
  return { resources, episodes, multiTurn: gymnasium, openSessions: () => sessions.size };
}

const INPUT_ROLES = new Set([Role.USER, Role.SYSTEM, Role.DEVELOPER]);

/**
 * NeMo Gym (0.7.0) reads a verified response with its Responses models: a
 * message of role user, system or developer in `output` is an input message,
 * whose content parts are input parts (input_text...). One carrying
 * output_text or refusal parts fails validation there (HTTP 422), so it is
 * INVALID_ARGUMENT here rather than text a verifier would read.
 */
function checkOutputMessages(response: Response): void {
  response.output.forEach((item, i) => {
    if (item.kind.case !== "message" || item.kind.value.content.case !== "parts" || !INPUT_ROLES.has(item.kind.value.role)) return;
    const role = roleName(item.kind.value.role);
    item.kind.value.content.value.parts.forEach((part, j) => {
      if (part.kind.case !== "outputText" && part.kind.case !== "refusal") return;
      const type = part.kind.case === "outputText" ? "output_text" : "refusal";
      throw invalidInput(`response.output[${i}].content[${j}]`, `a ${role} message holds input parts (input_text...), not ${type}; only an assistant message has output_text or refusal parts`);
    });
  });
}

/** Parses and validates a tool's untrusted arguments; INVALID_ARGUMENT says what is wrong and where. */
export function parseArguments(tool: Tool<any>, text: string): unknown {
  let args: unknown;
  try {
    args = JSON.parse(text || "{}");
  } catch (err) {
    throw new ConnectError(`tool ${tool.name}: arguments are not valid JSON: ${(err as Error).message}`, Code.InvalidArgument);
  }
  const parsed = tool.args.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "(arguments)";
    throw new ConnectError(`tool ${tool.name}: ${where}: ${issue.message}`, Code.InvalidArgument);
  }
  return parsed.data;
}

function verdictOf(name: string, result: VerifyResult) {
  checkReward(name, result.reward);
  return create(VerdictSchema, {
    reward: result.reward,
    rewardComponents: result.rewardComponents ?? {},
    extraJson: result.extra && Object.keys(result.extra).length > 0 ? JSON.stringify(result.extra) : "",
  });
}

function checkReward(name: string, reward: unknown): void {
  if (typeof reward !== "number" || !Number.isFinite(reward)) {
    throw new ConnectError(`${name}: the verifier returned a reward that is not a finite number: ${String(reward)}`, Code.Internal);
  }
}

function notMultiTurn(name: string, rpc: string): ConnectError {
  return new ConnectError(`${name} is not a multi-turn environment: ${rpc} needs one with step()`, Code.FailedPrecondition);
}

/** Runs environment code; an error that is not a ConnectError becomes INTERNAL with the context, never a crash. */
async function guard<T>(context: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    throw new ConnectError(`${context}: ${err instanceof Error ? err.message : String(err)}`, Code.Internal);
  }
}
