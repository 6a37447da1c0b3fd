// The mesh config: named instances in YAML, `${VAR}` substitution from the
// environment and an optional git-ignored env.yaml, validated with each
// kind's zod schema so a bad file fails at start with the file, the field
// path and the reason. Every duration is in seconds, in a key ending `_s`.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "../mesh/errors.js";
import { formatPeerAddress, parsePeerAddress } from "../mesh/peer-address.js";
import type { MeshSecurity } from "../mesh/auth.js";
import { limits as Limits, type ConfigLookup, type InstanceKind, type Limits as InstanceLimits, type Reference } from "../mesh/kind.js";
import { KINDS, kindOf } from "./kinds.js";
import { parseSecurity } from "./security.js";
import { DEFAULT_CONFIG } from "./package-root.js";

export { DEFAULT_CONFIG };

type KindConfig<K> = K extends InstanceKind<infer C> ? C : never;
/** One instance's config: its kind's fields (the union of every kind's), plus `limits:`, which every kind takes (mesh/kind.ts; defaults filled in). */
export type InstanceConfig = KindConfig<(typeof KINDS)[number]> & { limits?: InstanceLimits };
export type InstanceOf<K extends InstanceConfig["kind"]> = Extract<InstanceConfig, { kind: K }>;

export interface MeshConfig {
  instances: Record<string, InstanceConfig>;
  /**
   * Where instances that run in other processes listen, by name (in
   * Kubernetes, their Service DNS names: `grpc://mcqa:9090`, `http://mcqa:8080`;
   * a grpc:// name or list may stand for several replicas, see
   * mesh/peer-address.ts). Instances started here are found without it.
   */
  addresses?: Record<string, string>;
  /** `security:`, read (token, PEM files): every instance started checks the token and serves TLS; peers are called with them. */
  security?: MeshSecurity;
}

const instanceName = z.string().regex(/^[a-z][a-z0-9_]*$/, "instance names are snake_case");

/** The file's outline; each instance is then parsed by its kind's schema, and the addresses last. */
const MeshOutline = z.strictObject({
  instances: z.record(instanceName, z.looseObject({ kind: z.string() })),
  addresses: z.unknown().optional(),
  security: z.unknown().optional(),
});
/**
 * A peer's address (mesh/peer-address.ts): one http(s):// URL, or grpc://
 * (grpcs://, dns:///) endpoints, several as `grpc://a:9090,b:9090` or a YAML
 * list, kept as that one comma-separated string.
 */
const Addresses = z
  .record(
    instanceName,
    z.unknown().transform((value, ctx) => {
      try {
        return typeof value === "string" ? (parsePeerAddress(value), value.trim()) : formatPeerAddress(parsePeerAddress(value));
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message, input: value });
        return z.NEVER;
      }
    }),
  )
  .optional();

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
  const outline = MeshOutline.safeParse(substituted);
  if (!outline.success) throw new ConfigError(`${file}: ${describeIssue(outline.error.issues[0]!, [])}`);
  const config: MeshConfig = { instances: {} };
  for (const [name, raw] of Object.entries(outline.data.instances)) config.instances[name] = parseInstance(name, raw, file);
  const addresses = Addresses.safeParse(outline.data.addresses);
  if (!addresses.success) throw new ConfigError(`${file}: ${describeIssue(addresses.error.issues[0]!, ["addresses"])}`);
  config.addresses = addresses.data;
  config.security = parseSecurity(outline.data.security, { file, vars });
  const lookup = (name: string) => config.instances[name];
  try {
    for (const [name, inst] of Object.entries(config.instances)) {
      const kind = kindOf(inst.kind)!;
      checkReferences(name, kind.references?.(inst) ?? [], lookup);
      kind.check?.(inst, { name, dir: path.dirname(file), lookup });
    }
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
  return config;
}

function parseInstance(name: string, raw: { kind: string }, file: string): InstanceConfig {
  const at = ["instances", name];
  const kind = kindOf(raw.kind);
  if (!kind) {
    throw new ConfigError(`${file}: ${formatPath([...at, "kind"])}: unknown kind "${raw.kind}" (kinds: ${KINDS.map((k) => k.kind).join(", ")})`);
  }
  // `limits:` is common to every kind: read here, not by each kind's schema.
  const { limits: rawLimits, ...own } = raw as { kind: string; limits?: unknown };
  const parsed = kind.schema.safeParse(own);
  if (!parsed.success) throw new ConfigError(`${file}: ${describeIssue(parsed.error.issues[0]!, at, kind)}`);
  const limits = Limits.safeParse(rawLimits);
  if (!limits.success) {
    throw new ConfigError(`${file}: ${describeIssue(limits.error.issues[0]!, [...at, "limits"], { schema: Limits.unwrap() } as unknown as InstanceKind)}`);
  }
  return { ...(parsed.data as object), limits: limits.data } as InstanceConfig;
}

/** The path and the reason; a key that became another (`timeout_ms` is now `timeout_s`) says its new name. */
function describeIssue(issue: z.core.$ZodIssue, at: PropertyKey[], kind?: InstanceKind): string {
  const where = formatPath([...at, ...issue.path]);
  if (issue.code === "unrecognized_keys" && kind) {
    const shape = (kind.schema as unknown as z.ZodObject).shape ?? {};
    for (const key of issue.keys) {
      const renamed = key.replace(/_ms$/, "_s");
      if (renamed !== key && renamed in shape) {
        return `${formatPath([...at, ...issue.path, key])}: renamed to ${renamed}: every duration in a config is in seconds (fractions allowed)`;
      }
    }
  }
  return `${where}: ${issue.message}`;
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

/** Instances refer to others by name: those must exist and be of the right kind. */
function checkReferences(name: string, references: Reference[], lookup: ConfigLookup): void {
  for (const ref of references) {
    if (!ref.kinds.includes(lookup(ref.name)?.kind ?? "")) {
      throw new ConfigError(`instances.${name}.${ref.field}: "${ref.name}" is not a ${ref.kinds.join(" or ")} instance of this config`);
    }
  }
}
