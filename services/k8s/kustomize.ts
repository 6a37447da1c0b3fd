// The kustomizations: the base (every object of the mesh, its namespace) and
// an example overlay that scales the environments and agents and points the
// model at an in-cluster vLLM. Kustomization files are not Kubernetes API
// objects (kubectl kustomize reads them), so they are plain typed objects.
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { ENV_CONFIG_MAP } from "./objects.js";
import type { InstancePlan } from "./mesh-config.js";

export interface Kustomization {
  apiVersion: "kustomize.config.k8s.io/v1beta1";
  kind: "Kustomization";
  namespace?: string;
  resources: string[];
  replicas?: { name: string; count: number }[];
  patches?: { path: string }[];
}

export function baseKustomization(namespace: string, resources: string[]): Kustomization {
  return { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", namespace, resources };
}

/** Kinds whose instances scale out in the example: environments and agents hold no state across rollouts. */
const SCALED_KINDS = new Set(["resources", "nemo_gym_resources", "agent"]);
export const EXAMPLE_REPLICAS = 2;
export const VLLM_PORT = 8000;
/** What the example's vLLM serves (its --served-model-name): replace it with yours. */
export const EXAMPLE_MODEL_NAME = "Qwen/Qwen3-8B";

export interface ExampleOverlay {
  kustomization: Kustomization;
  /** The gym-env patch (a partial ConfigMap), when the config's model takes its backend from variables. */
  envPatch?: ConfigMap;
  /** What the patch sets, for the comments. */
  envValues: Record<string, string>;
}

export function exampleOverlay(instances: InstancePlan[], namespace: string, clusterDomain: string): ExampleOverlay {
  const values = vllmValues(instances, `http://vllm.${namespace}.svc.${clusterDomain}:${VLLM_PORT}/v1`);
  // A strategic-merge patch: only what it changes (its keys are added to the base's).
  const envPatch = Object.keys(values).length > 0 ? new ConfigMap({ metadata: { name: ENV_CONFIG_MAP, namespace }, data: values }) : undefined;
  envPatch?.validate();
  const replicas = instances.filter((i) => SCALED_KINDS.has(i.kind)).map((i) => ({ name: i.dns, count: EXAMPLE_REPLICAS }));
  return {
    kustomization: {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["../../base"],
      ...(replicas.length > 0 ? { replicas } : {}),
      ...(envPatch ? { patches: [{ path: "gym-env.yaml" }] } : {}),
    },
    envPatch,
    envValues: values,
  };
}

/**
 * The variables that choose a model instance's backend (its `base_url`,
 * `api` and `model` given as `${VAR}`, as config/default.yaml does with
 * POLICY_*), set for a vLLM Service: vLLM speaks Chat Completions.
 */
function vllmValues(instances: InstancePlan[], url: string): Record<string, string> {
  const values: Record<string, string> = {};
  const wanted: Record<string, string> = { base_url: url, api: "chat_completions", model: EXAMPLE_MODEL_NAME };
  for (const inst of instances.filter((i) => i.kind === "model")) {
    for (const [field, value] of Object.entries(wanted)) {
      const name = wholeReference(inst.source[field]);
      // Secret variables come from gym-secrets, not from this ConfigMap.
      if (name && !inst.variables.find((v) => v.name === name)?.secret) values[name] = value;
    }
  }
  return values;
}

/** `${VAR}` or `${VAR:-default}` as the whole value: its name. */
function wholeReference(value: unknown): string | undefined {
  return typeof value === "string" ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/.exec(value)?.[1] : undefined;
}
