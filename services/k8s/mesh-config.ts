// The mesh config as the pods read it: the user's YAML (comments and `${VAR}`
// references kept) with every instance on fixed container ports, an
// `addresses:` section naming each instance's in-cluster Service, and the
// security files at the paths their Secrets are mounted on. It is checked
// with the repo's own loader before anything is written, so a config that
// `gym serve` would refuse is refused here too.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, parseDocument, isMap, type Document } from "yaml";
import { loadConfig, type InstanceConfig, type MeshConfig } from "../app/config.js";
import { kindOf } from "../app/kinds.js";
import { SecuritySection } from "../app/security.js";
import { ConfigError } from "../mesh/errors.js";
import { DEFAULT_LIMITS } from "../mesh/kind.js";
import { dnsNames } from "./names.js";
import { mergeVariables, variablesIn, type VariableUse } from "./variables.js";

/** Every pod has its own IP, so every instance can listen on the same ports: one Service shape for all. */
export const HTTP_PORT = 8080;
export const GRPC_PORT = 9090;
/** Where the Secrets holding the token file and the TLS files are mounted (a projected volume). */
export const SECRET_FILES_DIR = "/var/run/secrets/gym";
export const TOKEN_FILE = `${SECRET_FILES_DIR}/token`;
export const TLS_FILES = { cert_file: `${SECRET_FILES_DIR}/tls/tls.crt`, key_file: `${SECRET_FILES_DIR}/tls/tls.key`, ca_file: `${SECRET_FILES_DIR}/tls/ca.crt` };
/** The container sets this itself (the instance's name); a config that uses ${INSTANCE} gets that. */
export const INSTANCE_VAR = "INSTANCE";

export interface InstancePlan {
  /** The config's name (snake_case): what `gym serve --only` takes. */
  name: string;
  /** Its Kubernetes name (Deployment, Service, PodDisruptionBudget, address). */
  dns: string;
  kind: string;
  /** It has a grpc-js port (its kind's schema takes `grpc_port`): peers call it there, and health is probed there. */
  grpc: boolean;
  drainTimeoutS: number;
  /** The variables its config section and `security:` use, by name. */
  variables: VariableUse[];
  config: InstanceConfig;
  /** Its section of the config as written (`${VAR}` references unsubstituted). */
  source: Record<string, unknown>;
}

export interface SecurityPlan {
  /** security.token_env: the variable holding the token (from the Secret). */
  tokenEnv?: string;
  /** security.token_file: the token comes from the Secret gym-token, mounted as a file. */
  tokenFile: boolean;
  /** security.tls: the files come from the Secret gym-tls (`ca` when ca_file is set: mutual TLS). */
  tls?: { ca: boolean };
}

export interface MeshPlan {
  file: string;
  instances: InstancePlan[];
  /** config.yaml of the ConfigMap. */
  configYaml: string;
  security?: SecurityPlan;
  /** Things that will not work as they are in a pod (relative files). */
  warnings: string[];
}

export interface PlanOptions {
  namespace: string;
  clusterDomain: string;
  /** The variables for checking the config (default: the environment; env.yaml files are read too). */
  env?: NodeJS.ProcessEnv;
}

/** A value for a variable that has no default and is not set here: it will be set in the pod (a Secret, gym-env). */
const PLACEHOLDER = "gym-k8s-render-placeholder";

export function planMesh(file: string, options: PlanOptions): MeshPlan {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`${file}: not valid YAML: ${doc.errors[0]!.message}`);
  const raw = (doc.toJS() ?? {}) as { instances?: Record<string, unknown>; security?: unknown; addresses?: unknown };
  const security = checkSecurity(raw.security, file);

  // The config as the user wrote it must load (the loader's own errors).
  const env = validationEnv(file, variablesIn(raw), options.env ?? process.env);
  const config = loadChecked(doc, file, env);
  const names = dnsNames(Object.keys(config.instances), file);

  const instances: InstancePlan[] = Object.entries(config.instances).map(([name, inst]) => {
    const kind = kindOf(inst.kind)!;
    const shape = (kind.schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
    const own = variablesIn(raw.instances?.[name]);
    let variables = mergeVariables(own, variablesIn(raw.security).values());
    if (security?.tokenEnv) variables = mergeVariables(variables, [{ name: security.tokenEnv, hasDefault: false, secret: true }]);
    variables.delete(INSTANCE_VAR);
    return {
      name,
      dns: names.get(name)!,
      kind: inst.kind,
      grpc: "grpc_port" in shape,
      drainTimeoutS: inst.limits?.drain_timeout_s ?? DEFAULT_LIMITS.drain_timeout_s,
      variables: [...variables.values()].sort((a, b) => a.name.localeCompare(b.name)),
      config: inst,
      source: (raw.instances?.[name] ?? {}) as Record<string, unknown>,
    };
  });

  const warnings: string[] = [];
  const rendered = podConfig(doc, instances, raw, security, options, file, warnings);
  // What the pods will read must load too, addresses and all.
  loadChecked(rendered, file, env);
  return { file, instances, configYaml: rendered.toString({ lineWidth: 0 }), security, warnings };
}

/** The in-cluster URL of an instance: its grpc-js port for gRPC instances, else its main (HTTP) port, as AddressBook expects. */
export function addressOf(inst: Pick<InstancePlan, "dns" | "grpc">, namespace: string, clusterDomain: string, tls: boolean): string {
  const host = `${inst.dns}.${namespace}.svc.${clusterDomain}`;
  return inst.grpc ? `${tls ? "grpcs" : "grpc"}://${host}:${GRPC_PORT}` : `${tls ? "https" : "http"}://${host}:${HTTP_PORT}`;
}

/** The ConfigMap's config: fixed ports, in-cluster addresses, security files at their mount paths. */
function podConfig(
  source: Document,
  instances: InstancePlan[],
  raw: { instances?: Record<string, unknown>; addresses?: unknown },
  security: SecurityPlan | undefined,
  options: PlanOptions,
  file: string,
  warnings: string[],
): Document {
  const doc = source.clone();
  const tls = security?.tls !== undefined;
  const addresses: Record<string, string> = {};
  for (const inst of instances) {
    doc.setIn(["instances", inst.name, "port"], HTTP_PORT);
    if (inst.grpc) doc.setIn(["instances", inst.name, "grpc_port"], GRPC_PORT);
    addresses[inst.name] = addressOf(inst, options.namespace, options.clusterDomain, tls);
    // The mock model's recordings are files: relative ones would be looked for beside /etc/gym/config.yaml.
    const files = (raw.instances?.[inst.name] as { replay?: { files?: unknown } } | undefined)?.replay?.files;
    if (Array.isArray(files) && files.some((f) => typeof f === "string" && !path.isAbsolute(f))) {
      warnings.push(`${file}: instances.${inst.name}.replay.files: relative paths resolve against /etc/gym in the pod, where they are not: give paths inside the image`);
    }
  }
  // Addresses of peers that are not instances of this config (elsewhere) stay as they are.
  const given = isMap(doc.get("addresses")) ? ((raw.addresses ?? {}) as Record<string, string>) : {};
  for (const [name, url] of Object.entries(given)) {
    if (addresses[name] === undefined) addresses[name] = url;
    else if (url !== addresses[name]) warnings.push(`${file}: addresses.${name}: ${url} replaced by its in-cluster address ${addresses[name]}`);
  }
  const node = doc.createNode(addresses);
  node.commentBefore = " In-cluster addresses (gym k8s render): each instance's Service; a headless one (gRPC) resolves to every ready pod";
  doc.set("addresses", node);
  if (security?.tokenFile) doc.setIn(["security", "token_file"], TOKEN_FILE);
  if (security?.tls) {
    doc.setIn(["security", "tls", "cert_file"], TLS_FILES.cert_file);
    doc.setIn(["security", "tls", "key_file"], TLS_FILES.key_file);
    if (security.tls.ca) doc.setIn(["security", "tls", "ca_file"], TLS_FILES.ca_file);
  }
  const header = ` Rendered by gym k8s render from ${path.basename(file)}: ports, addresses and security files set for Kubernetes.`;
  doc.commentBefore = doc.commentBefore ? `${header}\n\n${doc.commentBefore}` : header;
  return doc;
}

/**
 * `security:` is checked without reading its files or its token: those exist
 * only in the pod (Secrets). The loader checks the rest.
 */
function checkSecurity(raw: unknown, file: string): SecurityPlan | undefined {
  if (raw === undefined || raw === null) return undefined;
  const parsed = SecuritySection.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: ${["security", ...issue.path.map(String)].join(".")}: ${issue.message}`);
  }
  const { token_env, token_file, tls } = parsed.data;
  if (token_env !== undefined && token_file !== undefined) throw new ConfigError(`${file}: security.token_file: give token_env or token_file, not both`);
  return { tokenEnv: token_env, tokenFile: token_file !== undefined, tls: tls && { ca: tls.ca_file !== undefined } };
}

/**
 * The variables to check the config with: the environment and env.yaml (as
 * the loader reads them), and a placeholder for each one without a default
 * that is set nowhere here (the pod gets it from a Secret or gym-env).
 */
function validationEnv(file: string, used: Map<string, VariableUse>, env: NodeJS.ProcessEnv): { vars: NodeJS.ProcessEnv; placeholders: string[] } {
  const known = { ...readEnvYaml(process.cwd()), ...readEnvYaml(path.dirname(file)), ...env };
  const placeholders = [...used.values()].filter((v) => !v.hasDefault && known[v.name] === undefined).map((v) => v.name);
  return { vars: { ...known, ...Object.fromEntries(placeholders.map((n) => [n, PLACEHOLDER])) }, placeholders };
}

function readEnvYaml(dir: string): Record<string, string> {
  const file = path.join(dir, "env.yaml");
  if (!fs.existsSync(file)) return {};
  const data: unknown = parseYaml(fs.readFileSync(file, "utf8")) ?? {};
  if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`${file}: must be a mapping of names to values`);
  return Object.fromEntries(Object.entries(data as object).map(([k, v]) => [k, String(v)]));
}

/**
 * Loads `doc` with the repo's loader, `security:` left out (checked above),
 * from a temporary copy; errors name the user's file.
 */
function loadChecked(doc: Document, file: string, env: { vars: NodeJS.ProcessEnv; placeholders: string[] }): MeshConfig {
  const copy = doc.clone();
  if (isMap(copy.contents)) copy.delete("security");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-k8s-"));
  const tmp = path.join(dir, path.basename(file));
  try {
    fs.writeFileSync(tmp, copy.toString({ lineWidth: 0 }));
    return loadConfig(tmp, env.vars);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const note = env.placeholders.length > 0 ? ` (checked with a placeholder for ${env.placeholders.join(", ")}, not set here: set them in the environment or env.yaml to check their values)` : "";
    throw new ConfigError(err.message.split(tmp).join(file).split(dir).join(path.dirname(file)) + note);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
