// Verifier cases: `data/verify_cases.jsonl` of an environment pins what NeMo
// Gym's current code gives for a task row and a model response: the reward
// (and fields), or the error. Each case runs through the real
// ResourcesService host, in process. The format is described in
// services/environments/README.md.
import { isDeepStrictEqual } from "node:util";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { localClient } from "../mesh/local-transport.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import type { Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { JsonShapeError, responseFromJson, taskFromJson, verdictFields } from "../openai/responses-json.js";
import { isGymnasium, type Environment } from "./environment.js";
import { createResourcesHost } from "./host.js";

export type CaseKind = "full_reward" | "zero_reward" | "malformed" | "edge";

export interface VerifyCase {
  line: number;
  name: string;
  kind: CaseKind;
  json: JsonObject;
}

export interface CaseOutcome {
  reward?: number;
  extra?: JsonObject;
  steps?: { observation?: string; reward: number; terminated: boolean; truncated: boolean }[];
  error?: { code: string; message: string };
}

/** Fields of a case line that are not part of the task row (for cases written inline). */
const CASE_KEYS = new Set([
  "name", "case", "kind", "description", "task", "request", "response", "setup", "session", "turns",
  "expected_reward", "expected_extra", "expected_error", "expected_steps", "reward", "error", "note",
  // The environment's settings for this case (as under `settings:` of a resources instance); NeMo Gym's
  // server gets them as its config fields, or from `nemo_gym_config` (a file of the release's server).
  "settings", "nemo_gym_config",
  // A pinned difference from NeMo Gym's release (test/nemo_gym/test_verify_cases_differential.py reads it).
  "nemo_gym_differs",
]);

/** gRPC code name as written in cases: Code.InvalidArgument -> "invalid_argument". */
export function codeName(code: Code): string {
  return Code[code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

export function parseCases(text: string, file: string): VerifyCase[] {
  const cases: VerifyCase[] = [];
  text.split("\n").forEach((raw, i) => {
    if (!raw.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not valid JSON: ${(err as Error).message}`);
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error(`${file}:${i + 1}: a case must be a JSON object`);
    const obj = json as JsonObject;
    const name = String(obj.name ?? obj.case ?? obj.description ?? `line ${i + 1}`);
    cases.push({ line: i + 1, name, kind: kindOf(obj, name), json: obj });
  });
  return cases;
}

function kindOf(obj: JsonObject, name: string): CaseKind {
  const declared = [obj.kind, name].find((k): k is CaseKind => k === "full_reward" || k === "zero_reward" || k === "malformed" || k === "edge");
  if (declared) return declared;
  if (expectedError(obj)) return "malformed";
  const reward = expectedReward(obj);
  if (reward === 0) return "zero_reward";
  if (reward === 1) return "full_reward";
  return "edge";
}

export function expectedReward(obj: JsonObject): number | undefined {
  const r = obj.expected_reward ?? obj.reward;
  return typeof r === "number" ? r : undefined;
}

const CODE_NAMES = new Set(
  Object.values(Code)
    .filter((v): v is Code => typeof v === "number")
    .map(codeName),
);

/** The expected error as {code, message?}; a plain string is a gRPC code name (invalid_argument...), or else a message fragment. */
export function expectedError(obj: JsonObject): { code?: string; message?: string } | undefined {
  const e = obj.expected_error ?? obj.error;
  if (e === undefined || e === null) return undefined;
  if (typeof e === "string") return CODE_NAMES.has(e) ? { code: e } : { message: e };
  if (typeof e === "object" && !Array.isArray(e)) {
    return { code: typeof e.code === "string" ? e.code : undefined, message: typeof e.message === "string" ? e.message : undefined };
  }
  return {};
}

/** The task row of a case: `task`, NeMo Gym's `request` (without its response), or the case's own row fields. */
export function caseTask(obj: JsonObject): JsonObject {
  if (isObject(obj.task)) return obj.task;
  if (isObject(obj.request)) {
    const { response: _r, ...row } = obj.request;
    return row;
  }
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !CASE_KEYS.has(k)));
}

function caseResponse(obj: JsonObject): JsonValue | undefined {
  if (obj.response !== undefined) return obj.response;
  if (isObject(obj.request)) return obj.request.response;
  return undefined;
}

/** Clients of both services of one environment's host, in this process. */
export interface HostClients {
  resources: Client<typeof ResourcesService>;
  episodes: Client<typeof EpisodeService>;
}

export function hostClients(env: Environment<any>, settings?: JsonObject): HostClients {
  const host = createResourcesHost(env, { settings });
  return { resources: localClient(ResourcesService, host.resources), episodes: localClient(EpisodeService, host.episodes) };
}

export function hostClient(env: Environment<any>): Client<typeof ResourcesService> {
  return hostClients(env).resources;
}

/** Runs one case against the environment and reports what came out. */
export async function runCase(env: Environment<any>, c: VerifyCase, clients?: HostClients): Promise<CaseOutcome> {
  try {
    clients ??= hostClients(env, isObject(c.json.settings) ? c.json.settings : undefined);
    return isGymnasium(env) ? await runEpisode(clients.episodes, c.json) : await runVerify(clients.resources, c.json);
  } catch (err) {
    if (err instanceof JsonShapeError) return { error: { code: "invalid_argument", message: err.message } };
    const e = ConnectError.from(err);
    return { error: { code: codeName(e.code), message: e.rawMessage } };
  }
}

async function runVerify(client: Client<typeof ResourcesService>, obj: JsonObject): Promise<CaseOutcome> {
  const task = taskFromJson(caseTask(obj));
  const responseJson = caseResponse(obj);
  const response = responseJson === undefined ? undefined : responseFromJson(responseJson, "response");
  let sessionId = "";
  if (obj.session !== false) ({ sessionId } = await client.seedSession({ task }));
  try {
    for (const [i, step] of (Array.isArray(obj.setup) ? obj.setup : []).entries()) {
      await runSetupCall(client, sessionId, step, i);
    }
    const { verdict } = await client.verify({ sessionId, task, response });
    return { reward: verdict?.reward ?? 0, extra: verdictFields(verdict) };
  } finally {
    if (sessionId) await client.closeSession({ sessionId });
  }
}

async function runSetupCall(client: Client<typeof ResourcesService>, sessionId: string, step: JsonValue, i: number): Promise<void> {
  if (!isObject(step) || typeof step.tool !== "string") throw new Error(`setup[${i}] needs {"tool": name, "arguments": ...}`);
  const args = typeof step.arguments === "string" ? step.arguments : JSON.stringify(step.arguments ?? {});
  const want = expectedError(step);
  try {
    const { output } = await client.callTool({ sessionId, name: step.tool, arguments: args });
    if (want) throw new Error(`setup[${i}] (${step.tool}): expected error ${JSON.stringify(want)}, got output ${output}`);
    if (typeof step.expected_output === "string" && output !== step.expected_output) {
      throw new Error(`setup[${i}] (${step.tool}): expected output ${step.expected_output}, got ${output}`);
    }
  } catch (err) {
    if (!want || !(err instanceof ConnectError)) throw err;
    if (want.code && codeName(err.code) !== want.code) throw new Error(`setup[${i}] (${step.tool}): expected ${want.code}, got ${codeName(err.code)}: ${err.rawMessage}`);
  }
}

async function runEpisode(client: Client<typeof EpisodeService>, obj: JsonObject): Promise<CaseOutcome> {
  const task = taskFromJson(caseTask(obj));
  const turns = Array.isArray(obj.turns) ? obj.turns : caseResponse(obj) !== undefined ? [caseResponse(obj)!] : [];
  const responses: Response[] = turns.map((t, i) => responseFromJson(t, `turns[${i}]`));
  const { episodeId } = await client.reset({ task });
  const steps: NonNullable<CaseOutcome["steps"]> = [];
  let reward = 0;
  try {
    for (const response of responses) {
      const s = await client.step({ episodeId, task, response });
      steps.push({ ...(s.observation !== undefined ? { observation: s.observation } : {}), reward: s.reward, terminated: s.terminated, truncated: s.truncated });
      reward += s.reward;
      if (s.terminated || s.truncated) break;
    }
  } finally {
    await client.closeEpisode({ episodeId });
  }
  return { reward, steps };
}

/** Why an outcome does not match its case, or undefined when it does. */
export function mismatch(c: VerifyCase, got: CaseOutcome): string | undefined {
  const wantError = expectedError(c.json);
  if (wantError) {
    if (!got.error) return `expected an error ${JSON.stringify(wantError)}, got reward ${got.reward}`;
    if (wantError.code && got.error.code !== wantError.code) return `expected error ${wantError.code}, got ${got.error.code}: ${got.error.message}`;
    if (wantError.message && !got.error.message.includes(wantError.message)) {
      return `expected an error message containing ${JSON.stringify(wantError.message)}, got: ${got.error.message}`;
    }
    return undefined;
  }
  if (got.error) return `unexpected error ${got.error.code}: ${got.error.message}`;
  const want = expectedReward(c.json);
  if (want === undefined) return "the case names neither expected_reward nor expected_error";
  if (Math.abs((got.reward ?? NaN) - want) > 1e-9) return `expected reward ${want}, got ${got.reward}`;
  if (isObject(c.json.expected_extra)) {
    for (const [k, v] of Object.entries(c.json.expected_extra)) {
      if (!isDeepStrictEqual(got.extra?.[k], v)) return `expected ${k} = ${JSON.stringify(v)}, got ${JSON.stringify(got.extra?.[k])}`;
    }
  }
  if (Array.isArray(c.json.expected_steps)) {
    if (!isDeepStrictEqual(got.steps, c.json.expected_steps)) {
      return `expected steps ${JSON.stringify(c.json.expected_steps)}, got ${JSON.stringify(got.steps)}`;
    }
  }
  return undefined;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
