// `gym k8s render`: a mesh config -> a kustomize base (per instance a
// Deployment, a headless Service and a PodDisruptionBudget; the config and
// variable ConfigMaps) plus an example overlay. Everything is built and
// checked in memory first; files are written only when all of it is good.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Document } from "yaml";
import { UsageError } from "../mesh/errors.js";
import { exampleOverlay, baseKustomization, type Kustomization } from "./kustomize.js";
import { planMesh, type MeshPlan } from "./mesh-config.js";
import { DNS_LABEL, MAX_LABEL } from "./names.js";
import { configMap, deployment, envConfigMap, podDisruptionBudget, PRE_STOP_SLEEP_S, service, terminationGraceSeconds, type MeshObjects } from "./objects.js";
import { baseReadme } from "./readme.js";

import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_IMAGE, DEFAULT_NAMESPACE } from "./defaults.js";

export { DEFAULT_CLUSTER_DOMAIN, DEFAULT_IMAGE, DEFAULT_NAMESPACE };
/** The first line of every kustomization this writes: marks a folder as an earlier render that may be replaced. */
export const MARKER = " Rendered by gym k8s render";

export interface RenderOptions {
  config: string;
  image?: string;
  namespace?: string;
  clusterDomain?: string;
  /** `NAME=N`, NAME an instance of the config (its config or Kubernetes name). */
  replicas?: string[];
  /** The variables to check the config with (default: the environment). */
  env?: NodeJS.ProcessEnv;
}

export interface Rendered {
  /** Path (relative to the output folder, `/`-separated) -> content. */
  files: Map<string, string>;
  plan: MeshPlan;
  replicas: Map<string, number>;
  warnings: string[];
}

export function render(options: RenderOptions): Rendered {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const image = options.image ?? DEFAULT_IMAGE;
  const clusterDomain = options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  if (!DNS_LABEL.test(namespace) || namespace.length > MAX_LABEL) {
    throw new UsageError(`--namespace: "${namespace}" is not a namespace name (lower-case letters, digits and -, starting with a letter, at most ${MAX_LABEL})`);
  }
  if (!/^[^\s]+$/.test(image)) throw new UsageError(`--image: "${image}" is not an image reference`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain)) throw new UsageError(`--cluster-domain: "${clusterDomain}" is not a DNS name`);

  const plan = planMesh(options.config, { namespace, clusterDomain, env: options.env });
  const replicas = parseReplicas(options.replicas ?? [], plan);
  const mesh: MeshObjects = { namespace, image, security: plan.security, configHash: createHash("sha256").update(plan.configYaml).digest("hex").slice(0, 16) };
  const files = new Map<string, string>();
  const source = path.basename(options.config);

  const resources: string[] = [];
  const add = (file: string, text: string) => {
    files.set(`base/${file}`, text);
    resources.push(file);
  };
  add("gym-config.yaml", yamlStream([{ value: configMap(plan.configYaml, mesh), comment: ` The mesh config every pod reads at /etc/gym/config.yaml (from ${source}).` }]));
  add(
    "gym-env.yaml",
    yamlStream([
      {
        value: envConfigMap({}, mesh),
        comment: ` The config's non-secret variables, one key each; empty here, so the config's defaults apply. Overlays set them.${listVariables(plan, false)}`,
      },
    ]),
  );
  for (const inst of plan.instances) {
    const n = replicas.get(inst.name) ?? 1;
    // In their own folder: no instance name can then clash with kustomization.yaml or the ConfigMaps' files.
    add(
      `instances/${inst.dns}.yaml`,
      yamlStream([
        {
          value: deployment(inst, n, mesh),
          comment:
            ` Instance ${inst.name} (kind ${inst.kind}): gym serve --only ${inst.name}.\n` +
            ` terminationGracePeriodSeconds ${terminationGraceSeconds(inst)}: a ${PRE_STOP_SLEEP_S} s preStop sleep, then SIGTERM drains in-flight calls for up to limits.drain_timeout_s (${inst.drainTimeoutS} s).`,
        },
        { value: service(inst, mesh), comment: inst.grpc ? " Headless: the DNS name resolves to every ready pod; gRPC clients balance over them." : " Plain HTTP (no gRPC services): a ClusterIP spreads its connections." },
        { value: podDisruptionBudget(inst, mesh) },
      ]),
    );
  }
  files.set("base/kustomization.yaml", yamlStream([{ value: baseKustomization(namespace, resources), comment: baseComment(source, namespace, plan) }]));
  files.set("base/README.md", baseReadme({ plan, namespace, clusterDomain, image, source }));

  const overlay = exampleOverlay(plan.instances, namespace, clusterDomain);
  files.set("overlays/example/kustomization.yaml", yamlStream([{ value: overlay.kustomization, comment: overlayComment(overlay.kustomization, overlay.envValues) }]));
  if (overlay.envPatch) {
    files.set("overlays/example/gym-env.yaml", yamlStream([{ value: overlay.envPatch, comment: " Points the model at an in-cluster vLLM Service (Chat Completions); merged into the base's gym-env." }]));
  }
  return { files, plan, replicas, warnings: plan.warnings };
}

/** `--replicas NAME=N`: NAME an instance of the config, N a whole number of at least 1, each instance once. */
export function parseReplicas(specs: string[], plan: Pick<MeshPlan, "file" | "instances">): Map<string, number> {
  const out = new Map<string, number>();
  for (const spec of specs) {
    const m = /^([^=]*)=(.*)$/.exec(spec);
    if (!m) throw new UsageError(`--replicas ${spec}: give NAME=N (an instance and its number of pods)`);
    const [, name, count] = m as unknown as [string, string, string];
    const inst = plan.instances.find((i) => i.name === name || i.dns === name);
    if (!inst) throw new UsageError(`--replicas ${spec}: no instance "${name}" in ${plan.file} (instances: ${plan.instances.map((i) => i.name).join(", ")})`);
    const n = /^\d+$/.test(count) ? Number(count) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--replicas ${spec}: the number of pods must be a whole number of at least 1`);
    if (out.has(inst.name)) throw new UsageError(`--replicas ${spec}: ${inst.name} is given twice`);
    out.set(inst.name, n);
  }
  return out;
}

/**
 * Writes the render under `dir`: base/ and overlays/example/ are replaced
 * whole, anything else there (your own overlays) is left alone. A folder
 * that holds something else is refused rather than mixed into.
 */
export function writeRendered(dir: string, rendered: Pick<Rendered, "files">): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out ${dir}: not a folder`);
    const earlier = path.join(dir, "base", "kustomization.yaml");
    const isRender = fs.existsSync(earlier) && fs.readFileSync(earlier, "utf8").startsWith(`#${MARKER}`);
    if (fs.readdirSync(dir).length > 0 && !isRender) throw new UsageError(`--out ${dir}: not empty and not an earlier gym k8s render: give a new or empty folder`);
    fs.rmSync(path.join(dir, "base"), { recursive: true, force: true });
    fs.rmSync(path.join(dir, "overlays", "example"), { recursive: true, force: true });
  }
  for (const [file, text] of rendered.files) {
    const target = path.join(dir, ...file.split("/"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
  }
}

/** One YAML stream: each object (a model's JSON or a plain object) a document, with its comment above. */
function yamlStream(docs: { value: unknown; comment?: string }[]): string {
  return docs
    .map(({ value, comment }) => {
      const doc = new Document(typeof (value as { toJSON?: unknown }).toJSON === "function" ? (value as { toJSON(): unknown }).toJSON() : value);
      if (comment) doc.commentBefore = comment;
      return doc.toString({ lineWidth: 0 });
    })
    .join("---\n");
}

function listVariables(plan: MeshPlan, secret: boolean): string {
  const seen = new Map<string, boolean>();
  for (const inst of plan.instances) for (const v of inst.variables) if (v.secret === secret) seen.set(v.name, (seen.get(v.name) ?? true) && v.hasDefault);
  if (seen.size === 0) return "";
  return `\n Variables: ${[...seen].map(([name, hasDefault]) => `${name}${hasDefault ? "" : " (required)"}`).join(", ")}.`;
}

function baseComment(source: string, namespace: string, plan: MeshPlan): string {
  const lines = [
    `${MARKER} from ${source}: render again rather than edit; change things in an overlay.`,
    ` Namespace ${namespace}: set here for every object; no Namespace object is rendered (create it: kubectl create namespace ${namespace}).`,
    ` The config's addresses name the Services in ${namespace}: render again with --namespace for another one, and use no namespace, namePrefix or nameSuffix in overlays.`,
    ` Secrets are never rendered; create them in ${namespace} (see README.md):`,
    `   gym-secrets: one key per secret variable (secretKeyRef; optional where the config has a default).${listVariables(plan, true).replace("\n ", " ")}`,
  ];
  if (plan.security?.tokenFile) lines.push("   gym-token: key `token`, mounted at /var/run/secrets/gym/token (security.token_file).");
  if (plan.security?.tls) lines.push(`   gym-tls: tls.crt, tls.key${plan.security.tls.ca ? ", ca.crt" : ""} (cert-manager's layout), mounted under /var/run/secrets/gym/tls (security.tls).`);
  return lines.join("\n");
}

function overlayComment(k: Kustomization, values: Record<string, string>): string {
  const lines = [`${MARKER}: an example overlay; copy it to make your own (a render replaces overlays/example).`];
  if (k.replicas?.length) {
    lines.push(
      ` Environments and agents run ${k.replicas[0]!.count} pods each. Callers spread calls round-robin over every pod;`,
      " a session lives in one resources pod's memory and its calls go to the pod that seeded it (a lost one is retried from a fresh session).",
    );
  }
  if (Object.keys(values).length > 0) lines.push(` gym-env.yaml points the model at vLLM: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(", ")}.`);
  lines.push(" Pods do not restart when only gym-env changes: kubectl rollout restart deployment -l app.kubernetes.io/part-of=gym-mesh.");
  return lines.join("\n");
}
