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

const MockModelInstance = z.strictObject({
  kind: z.literal("mock_model"),
  port,
});

const ModelInstance = z.strictObject({
  kind: z.literal("model"),
  port,
  /** An OpenAI-compatible base URL (`http://host/v1`), or the name of a mock_model instance. */
  base_url: z.string().min(1),
  api_key: z.string().default("none"),
  /** The backend's model name, sent as `model` when the request has none. */
  model: z.string().min(1),
  /** Per upstream request, in milliseconds. */
  timeout_ms: z.number().int().positive().default(600_000),
});

const ResourcesInstance = z.strictObject({
  kind: z.literal("resources"),
  port,
  /** A built-in environment under services/environments/. */
  environment: z.string().min(1),
});

const AgentInstance = z.strictObject({
  kind: z.literal("agent"),
  port,
  /** One of NeMo Gym's agent kinds. */
  agent: z.literal("simple_agent").default("simple_agent"),
  model: z.string().min(1),
  resources: z.string().min(1),
  /** Model calls per rollout; 0 means no limit (as in NeMo Gym). */
  max_steps: z.number().int().min(0).default(10),
});

const RolloutInstance = z.strictObject({
  kind: z.literal("rollout"),
  port,
  /** The agent used for tasks that name none. */
  default_agent: z.string().min(1).optional(),
  /** Rollouts in flight per Collect stream before it stops reading tasks. */
  max_in_flight: z.number().int().positive().default(4096),
});

const Instance = z.discriminatedUnion("kind", [
  MockModelInstance,
  ModelInstance,
  ResourcesInstance,
  AgentInstance,
  RolloutInstance,
]);

const MeshConfig = z.strictObject({
  instances: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "instance names are snake_case"), Instance),
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
  return parsed.data;
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
  const expect = (at: string, name: string, kind: InstanceConfig["kind"]) => {
    if (kindOf(name) !== kind) {
      throw new ConfigError(`${file}: ${at}: "${name}" is not a ${kind} instance of this config`);
    }
  };
  for (const [name, inst] of Object.entries(config.instances)) {
    if (inst.kind === "agent") {
      expect(`instances.${name}.model`, inst.model, "model");
      expect(`instances.${name}.resources`, inst.resources, "resources");
    }
    if (inst.kind === "rollout" && inst.default_agent) expect(`instances.${name}.default_agent`, inst.default_agent, "agent");
    if (inst.kind === "model" && !/^https?:\/\//.test(inst.base_url)) expect(`instances.${name}.base_url`, inst.base_url, "mock_model");
  }
}
