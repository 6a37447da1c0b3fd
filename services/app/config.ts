// The mesh config: named instances in YAML, `${VAR}` substitution from the
// environment and an optional git-ignored env.yaml, validated with zod so a
// bad file fails at start with the file, the field path and the reason.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

export const DEFAULT_CONFIG = fileURLToPath(new URL("../../config/default.yaml", import.meta.url));

const port = z.number().int().min(0).max(65535).optional();
/**
 * A second port serving the instance's services over plain gRPC (grpc-js), the
 * cheaper path for the mesh's own calls; peers reach it at `grpc://host:grpc_port`.
 * Absent: a free port (fine when the callers run in the same process).
 */
const grpc_port = port;

const rate = z.number().min(0).max(1);

/** The built-in mock model: scripted answers, or recorded ones (replay), with fault knobs. */
const MockModelInstance = z.strictObject({
  kind: z.literal("mock_model"),
  port,
  /** Added to every answer, plus a random part in [0, latency_jitter_ms). */
  latency_ms: z.number().min(0).default(0),
  latency_jitter_ms: z.number().min(0).default(0),
  /** Fraction of requests answered with error_status (spread evenly), with Retry-After when retry_after_s is set. */
  error_rate: rate.default(0),
  error_status: z.number().int().min(400).max(599).default(500),
  retry_after_s: z.number().min(0).optional(),
  /** Fraction of requests left unanswered for stall_ms (0: until the client gives up). */
  stall_rate: rate.default(0),
  stall_ms: z.number().min(0).default(0),
  /** Fraction of requests whose connection is reset without an answer. */
  reset_rate: rate.default(0),
  /** Script: reasoning as `<think>` text or a reasoning_content field (Chat Completions), or none. */
  reasoning: z.enum(["none", "think_tags", "reasoning_content"]).default("none"),
  /** Script: call every offered tool at once instead of the first. */
  parallel_tool_calls: z.boolean().default(false),
  /** Script: tool-calling turns before the text answer (0: answer at once). */
  tool_turns: z.number().int().min(0).default(1),
  /** Honour vLLM's token-id extensions; false acts like a server without them. */
  token_ids: z.boolean().default(true),
  /** Answer from rollouts a real model recorded (NeMo Gym's example_rollouts.jsonl). */
  replay: z
    .strictObject({
      /** Rollout files, relative to this config file. */
      files: z.array(z.string().min(1)).min(1),
      /** A conversation no recording starts with: "error" (404) or "script" (the scripted mock answers). */
      unknown: z.enum(["error", "script"]).default("error"),
    })
    .optional(),
});

const ModelInstance = z.strictObject({
  kind: z.literal("model"),
  port,
  grpc_port,
  /** An OpenAI-compatible base URL (`http://host/v1`), or the name of a mock_model instance. */
  base_url: z.string().min(1),
  api_key: z.string().default("none"),
  /** The backend's model name, sent as `model` with every request (what a request names is replaced, as in NeMo Gym). */
  model: z.string().min(1),
  /** Per upstream request, in milliseconds. */
  timeout_ms: z.number().int().positive().default(600_000),
  /** What the backend speaks: "responses" (OpenAI) or "chat_completions" (vLLM, SGLang...; converted both ways). */
  api: z.enum(["responses", "chat_completions"]).default("responses"),
  /** Training: ask for prompt/generation token ids and logprobs (vLLM's Chat Completions extensions). */
  return_token_ids: z.boolean().default(false),
  /** Chat Completions: read `<think>...</think>` in the text as reasoning. */
  think_tags: z.boolean().default(true),
  /** Keep-alive connections to the backend at most; more requests wait for a free one. */
  pool_connections: z.number().int().positive().default(256),
  /** Tries per request on 429, 5xx and connection failures (1: no retry). */
  max_attempts: z.number().int().min(1).default(3),
  /** Backoff before retry n: about retry_base_ms * 2^(n-1), at most retry_max_ms, with jitter (Retry-After wins). */
  retry_base_ms: z.number().min(0).default(500),
  retry_max_ms: z.number().min(0).default(8000),
  /** Extra headers on every upstream request; their values are kept out of logs and errors like the key. */
  headers: z.record(z.string(), z.string()).default({}),
});

const ResourcesInstance = z.strictObject({
  kind: z.literal("resources"),
  port,
  grpc_port,
  /** A built-in environment under services/environments/. */
  environment: z.string().min(1),
  /** A session unused this long is dropped; 0 keeps sessions until closed. */
  session_idle_timeout_s: z.number().min(0).default(1800),
});

const AgentInstance = z.strictObject({
  kind: z.literal("agent"),
  port,
  grpc_port,
  /** One of NeMo Gym's agent kinds. */
  agent: z.enum(["simple_agent", "non_executing_simple_agent", "tool_simulation_agent", "gymnasium_agent"]).default("simple_agent"),
  model: z.string().min(1),
  resources: z.string().min(1),
  /** Model calls per rollout; 0 means no limit (as in NeMo Gym). */
  max_steps: z.number().int().min(0).default(10),
  /** tool_simulation_agent: give skip_verification_reward instead of calling the verifier. */
  skip_verification: z.boolean().default(false),
  skip_verification_reward: z.number().default(0),
});

const RolloutInstance = z.strictObject({
  kind: z.literal("rollout"),
  port,
  grpc_port,
  /** The agent used for tasks that name none. */
  default_agent: z.string().min(1).optional(),
  /** Rollouts in flight per Collect stream before it stops reading tasks. */
  max_in_flight: z.number().int().positive().default(4096),
  /** Deadline of one rollout; past it the rollout fails with deadline_exceeded (0: none). */
  rollout_timeout_s: z.number().min(0).default(3600),
});

/** A NeMo Gym (Python) resources server reached over its HTTP API, served here as a ResourcesService. */
const NemoGymResourcesInstance = z.strictObject({
  kind: z.literal("nemo_gym_resources"),
  port,
  grpc_port,
  /** The NeMo Gym server's base URL (`http://host:port`). */
  base_url: z.string().regex(/^https?:\/\//, "must be an http(s) URL"),
});

const Instance = z.discriminatedUnion("kind", [
  MockModelInstance,
  ModelInstance,
  ResourcesInstance,
  NemoGymResourcesInstance,
  AgentInstance,
  RolloutInstance,
]);

const instanceName = z.string().regex(/^[a-z][a-z0-9_]*$/, "instance names are snake_case");

const MeshConfig = z.strictObject({
  instances: z.record(instanceName, Instance),
  /**
   * Where instances that run in other processes listen, by name (in
   * Kubernetes, their Service DNS names: `http://mcqa:8080`). Instances
   * started here are found without it.
   */
  addresses: z.record(instanceName, z.string().regex(/^(https?|grpc):\/\//, "must be an http(s):// or grpc:// URL")).optional(),
});

export type InstanceConfig = z.infer<typeof Instance>;
export type MeshConfig = z.infer<typeof MeshConfig>;
export type InstanceOf<K extends InstanceConfig["kind"]> = Extract<InstanceConfig, { kind: K }>;

export class ConfigError extends Error {}

/** Reads, substitutes and validates a config file. */
export function loadConfig(file: string = DEFAULT_CONFIG, env: NodeJS.ProcessEnv = process.env): MeshConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const vars = { ...readEnvYaml(path.dirname(file)), ...env };
  const substituted = substitute(raw, vars, file, []);
  const parsed = MeshConfig.safeParse(substituted);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: ${formatPath(issue.path)}: ${issue.message}`);
  }
  checkReferences(parsed.data, file);
  resolveReplayFiles(parsed.data, path.dirname(file));
  return parsed.data;
}

/** Replay files are named relative to the config file. */
function resolveReplayFiles(config: MeshConfig, dir: string): void {
  for (const inst of Object.values(config.instances)) {
    if (inst.kind === "mock_model" && inst.replay) inst.replay.files = inst.replay.files.map((f) => path.resolve(dir, f));
  }
}

/** Secrets and local values: env.yaml beside the config or in the working directory. */
function readEnvYaml(configDir: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const dir of [configDir, process.cwd()].reverse()) {
    const file = path.join(dir, "env.yaml");
    if (!fs.existsSync(file)) continue;
    const data = parseYaml(fs.readFileSync(file, "utf8")) ?? {};
    if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`${file}: must be a mapping of names to values`);
    for (const [k, v] of Object.entries(data)) values[k] = String(v);
  }
  return values;
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(value: unknown, vars: Record<string, string | undefined>, file: string, at: PropertyKey[]): unknown {
  if (typeof value === "string") {
    const whole = value.match(/^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/);
    const lookup = (name: string, fallback: string | undefined) => {
      const v = vars[name] ?? fallback;
      if (v === undefined) throw new ConfigError(`${file}: ${formatPath(at)}: \${${name}} is not set (environment or env.yaml)`);
      return v;
    };
    // A value that is just `${VAR}` may become a number or boolean (ports, limits).
    if (whole) return parseScalar(lookup(whole[1]!, whole[2]));
    return value.replace(VAR, (_m, name: string, fallback: string | undefined) => lookup(name, fallback));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, vars, file, [...at, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars, file, [...at, k])]));
  }
  return value;
}

function parseScalar(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

function formatPath(at: readonly PropertyKey[]): string {
  return at.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") || "(top level)";
}

/** Agents and models refer to other instances by name: those must exist and be of the right kind. */
function checkReferences(config: MeshConfig, file: string): void {
  const kindOf = (name: string) => config.instances[name]?.kind;
  const expect = (at: string, name: string, ...kinds: InstanceConfig["kind"][]) => {
    if (!kinds.includes(kindOf(name)!)) {
      throw new ConfigError(`${file}: ${at}: "${name}" is not a ${kinds.join(" or ")} instance of this config`);
    }
  };
  for (const [name, inst] of Object.entries(config.instances)) {
    if (inst.kind === "agent") {
      expect(`instances.${name}.model`, inst.model, "model");
      expect(`instances.${name}.resources`, inst.resources, "resources", "nemo_gym_resources");
    }
    if (inst.kind === "rollout" && inst.default_agent) expect(`instances.${name}.default_agent`, inst.default_agent, "agent");
    if (inst.kind === "model" && !/^https?:\/\//.test(inst.base_url)) expect(`instances.${name}.base_url`, inst.base_url, "mock_model");
  }
}
