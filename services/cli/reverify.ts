// `gym reverify`: recomputes the rewards of stored rollouts with an
// environment's verifier, without calling a model, and reports which rows
// match the stored reward. A stateful environment gets its state back by
// replaying the rollout's tool calls in a fresh session before verifying; a
// multi-turn environment replays each model turn through Reset and Step.
import * as fs from "node:fs";
import * as path from "node:path";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import type { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ResponseSchema, Role, type Item, type Response } from "../../gen/gymmesh/v1/responses_pb.js";
import type { Task } from "../../gen/gymmesh/v1/task_pb.js";
import { environments } from "../environments/index.js";
import { ConfigError } from "../mesh/errors.js";
import { inPackage } from "../app/package-root.js";
import { jsonObjectOf, JsonShapeError, responseFromJson, taskFromJson, verdictFields } from "../openai/responses-json.js";
import { isGymnasium, type Environment } from "../resources/environment.js";
import { codeName, hostClients, type HostClients } from "../resources/verify-cases.js";

export interface ReverifyOptions {
  input: string;
  output: string;
  /** The environment; otherwise taken from the rows' agent_ref or the input's folder names. */
  env?: string;
  /**
   * Task rows to take missing row fields from (NeMo Gym's rollout lines may
   * lack the fields the verifier reads); default: the environment's
   * data/example.jsonl. A rollout is joined to a task by `_ng_task_index`, or
   * else by the same input messages.
   */
  tasks?: string;
}

export interface RowResult {
  line: number;
  stored: number | undefined;
  reward?: number;
  error?: { code: string; message: string };
}

export interface ReverifySummary {
  env: string;
  /** The task file rows were joined with, if any. */
  tasks?: string;
  rows: number;
  matched: number;
  /** Rows whose recomputed reward differs from the stored one, or that could not be verified. */
  differing: RowResult[];
}

export async function reverifyFile(options: ReverifyOptions): Promise<ReverifySummary> {
  const lines = fs.readFileSync(options.input, "utf8").split("\n");
  const rows = lines.flatMap((text, i) => (text.trim() ? [{ line: i + 1, text }] : []));
  const env = pickEnvironment(options, rows.map((r) => r.text));
  const clients = hostClients(env);
  const tasksFile = options.tasks ?? defaultTasksFile(env.name);
  const tasks = tasksFile ? new TaskIndex(tasksFile) : undefined;
  fs.mkdirSync(path.dirname(path.resolve(options.output)), { recursive: true });
  const out: string[] = [];
  const differing: RowResult[] = [];
  let matched = 0;

  for (const { line, text } of rows) {
    const result = await reverifyRow(env, clients, text, line, options.input, tasks);
    if (result.row) out.push(JSON.stringify(result.row));
    const { row: _row, ...r } = result;
    const same = r.reward !== undefined && r.stored !== undefined && Math.abs(r.reward - r.stored) < 1e-9;
    if (same) matched++;
    else differing.push(r);
  }
  fs.writeFileSync(options.output, out.length ? out.join("\n") + "\n" : "");
  return { env: env.name, tasks: tasksFile, rows: rows.length, matched, differing };
}

async function reverifyRow(
  env: Environment<any>,
  clients: HostClients,
  text: string,
  line: number,
  file: string,
  tasks: TaskIndex | undefined,
): Promise<RowResult & { row?: JsonObject }> {
  let json: JsonObject;
  try {
    json = JSON.parse(text) as JsonObject;
  } catch (err) {
    return { line, stored: undefined, error: { code: "invalid_argument", message: `${file}:${line}: not valid JSON: ${(err as Error).message}` } };
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    return { line, stored: undefined, error: { code: "invalid_argument", message: `${file}:${line}: a rollout line must be a JSON object` } };
  }
  const stored = typeof json.reward === "number" ? json.reward : undefined;
  try {
    if (json.response === undefined || json.response === null) throw new JsonShapeError("response", "a rollout line needs its response");
    const { response: responseJson, reward: _reward, ...row } = { ...(tasks?.find(json) ?? {}), ...json };
    const task = taskFromJson(row);
    const response = responseFromJson(responseJson, "response");
    const { reward, extra } = isGymnasium(env) ? await replayEpisode(clients.episodes, task, response) : await replayAndVerify(clients.resources, task, response);
    return { line, stored, reward, row: { ...json, reward, ...extra } };
  } catch (err) {
    const error =
      err instanceof JsonShapeError
        ? { code: "invalid_argument", message: `${file}:${line}: ${err.message}` }
        : (() => {
            const e = ConnectError.from(err);
            return { code: codeName(e.code), message: `${file}:${line}: ${e.rawMessage}` };
          })();
    return { line, stored, error, row: { ...json, reverify_error: error } };
  }
}

/** Seeds a session, replays the rollout's tool calls in order (their errors are the model's, as in the rollout), then verifies. */
async function replayAndVerify(client: Client<typeof ResourcesService>, task: Task, response: Response): Promise<{ reward: number; extra: JsonObject }> {
  const { sessionId } = await client.seedSession({ task });
  try {
    for (const item of response.output) {
      if (item.kind.case !== "functionCall") continue;
      const fc = item.kind.value;
      try {
        await client.callTool({ sessionId, name: fc.name, arguments: fc.arguments, callId: fc.callId });
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (code !== Code.NotFound && code !== Code.InvalidArgument && code !== Code.FailedPrecondition && code !== Code.Internal) throw err;
      }
    }
    const { verdict } = await client.verify({ sessionId, task, response });
    return { reward: verdict?.reward ?? 0, extra: verdictFields(verdict) };
  } finally {
    await client.closeSession({ sessionId });
  }
}

/** Resets the episode and steps once per model turn of the stored trajectory; the reward is the sum. */
async function replayEpisode(client: Client<typeof EpisodeService>, task: Task, response: Response): Promise<{ reward: number; extra: JsonObject }> {
  const { episodeId } = await client.reset({ task });
  let reward = 0;
  let ended = { terminated: false, truncated: true };
  let info: JsonObject = {};
  try {
    for (const turn of modelTurns(response.output)) {
      const step = await client.step({ episodeId, task, response: create(ResponseSchema, { ...response, output: turn }) });
      reward += step.reward;
      info = jsonObjectOf(step.infoJson, "info_json");
      if (step.terminated || step.truncated) {
        ended = { terminated: step.terminated, truncated: step.truncated };
        break;
      }
    }
  } finally {
    await client.closeEpisode({ episodeId });
  }
  return { reward, extra: { ...ended, info } };
}

/**
 * The model's turns of a multi-turn trajectory: runs of model output items,
 * separated by what the environment added (user messages, tool outputs).
 */
export function modelTurns(output: Item[]): Item[][] {
  const turns: Item[][] = [];
  let current: Item[] = [];
  for (const item of output) {
    const fromEnvironment = item.kind.case === "functionCallOutput" || (item.kind.case === "message" && item.kind.value.role === Role.USER);
    if (fromEnvironment) {
      if (current.length) turns.push(current);
      current = [];
    } else {
      current.push(item);
    }
  }
  if (current.length) turns.push(current);
  return turns;
}

function pickEnvironment(options: ReverifyOptions, texts: string[]): Environment<any> {
  const known = Object.keys(environments);
  if (options.env) {
    const env = environments[options.env];
    if (!env) throw new ConfigError(`--env: unknown environment "${options.env}" (built in: ${known.join(", ")})`);
    return env;
  }
  // The longest environment name that starts an agent_ref name (e.g. mcqa_simple_agent -> mcqa).
  for (const text of texts) {
    try {
      const ref = (JSON.parse(text) as JsonObject).agent_ref as JsonObject | undefined;
      const name = typeof ref?.name === "string" ? ref.name : "";
      const match = known.filter((k) => name.startsWith(k)).sort((a, b) => b.length - a.length)[0];
      if (match) return environments[match]!;
    } catch {
      // A bad line is reported with the rows.
    }
  }
  const folders = path.resolve(options.input).split(path.sep);
  const byFolder = [...folders].reverse().find((f) => known.includes(f));
  if (byFolder) return environments[byFolder]!;
  throw new ConfigError(`${options.input}: cannot tell the environment (no agent_ref, no folder named after one): pass --env (${known.join(", ")})`);
}

function defaultTasksFile(envName: string): string | undefined {
  const file = inPackage("services", "environments", envName, "data", "example.jsonl");
  return fs.existsSync(file) ? file : undefined;
}

/** Task rows, found by `_ng_task_index` or by their input messages. */
class TaskIndex {
  private readonly rows: JsonObject[];
  private readonly byInput = new Map<string, JsonObject>();

  constructor(file: string) {
    this.rows = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as JsonObject);
    for (const row of this.rows) {
      const key = inputKey(row);
      if (key !== undefined && !this.byInput.has(key)) this.byInput.set(key, row);
    }
  }

  find(rollout: JsonObject): JsonObject | undefined {
    const index = rollout._ng_task_index;
    if (typeof index === "number" && this.rows[index]) return this.rows[index];
    const key = inputKey(rollout);
    return key === undefined ? undefined : this.byInput.get(key);
  }
}

/** The input messages as (role, content) pairs: what stays the same between a task row and its rollout line. */
function inputKey(row: JsonObject): string | undefined {
  const params = row.responses_create_params;
  if (!params || typeof params !== "object" || Array.isArray(params)) return undefined;
  const input = params.input;
  if (typeof input === "string") return JSON.stringify([["user", input]]);
  if (!Array.isArray(input)) return undefined;
  return JSON.stringify(
    input.map((m) => (m && typeof m === "object" && !Array.isArray(m) ? [m.role ?? null, m.content ?? null] : m)),
  );
}
