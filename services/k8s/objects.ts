// The Kubernetes objects of one mesh, built with the typed models of
// kubernetes-models and checked with their JSON schemas (`.validate()`): per
// instance a Deployment, a Service and a PodDisruptionBudget, plus the
// ConfigMaps of the config and of the variables.
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { GRPC_PORT, HTTP_PORT, INSTANCE_VAR, SECRET_FILES_DIR, type InstancePlan, type SecurityPlan } from "./mesh-config.js";

export const CONFIG_MAP = "gym-config";
export const ENV_CONFIG_MAP = "gym-env";
/** Created by the user (never rendered): the secret variables, one key per variable name. */
export const SECRET = "gym-secrets";
/** Created by the user when the config asks for them: the token file (key `token`), the TLS files (tls.crt, tls.key, ca.crt: cert-manager's layout). */
export const TOKEN_SECRET = "gym-token";
export const TLS_SECRET = "gym-tls";
export const CONFIG_DIR = "/etc/gym";
export const CONFIG_FILE = `${CONFIG_DIR}/config.yaml`;
export const PART_OF = "gym-mesh";
/** The pod template carries the config's hash, so a changed config rolls the Deployments when applied. */
export const CONFIG_HASH_ANNOTATION = "gym-mesh/config-sha256";
/** Endpoints and DNS drop a terminating pod a moment after it gets its deletion; it keeps serving meanwhile. */
export const PRE_STOP_SLEEP_S = 5;
/** Time past the drain before the kubelet's SIGKILL: the process closes its servers and exits. */
export const GRACE_MARGIN_S = 10;
/** The uid and gid the image (deploy/Containerfile) runs as. */
const RUN_AS = 10001;

export interface MeshObjects {
  namespace: string;
  image: string;
  security?: SecurityPlan;
  configHash: string;
}

export function instanceLabels(inst: Pick<InstancePlan, "dns" | "kind">): Record<string, string> {
  return {
    "app.kubernetes.io/name": inst.dns,
    "app.kubernetes.io/instance": inst.dns,
    "app.kubernetes.io/component": inst.kind,
    "app.kubernetes.io/part-of": PART_OF,
  };
}

/** The labels a Service and a PodDisruptionBudget select an instance's pods by (a Deployment's selector cannot change later). */
export function selectorLabels(inst: Pick<InstancePlan, "dns">): Record<string, string> {
  return { "app.kubernetes.io/name": inst.dns, "app.kubernetes.io/instance": inst.dns };
}

/** SIGTERM comes after the preStop sleep; the drain then takes up to drain_timeout_s, and the process needs a moment to exit. */
export function terminationGraceSeconds(inst: Pick<InstancePlan, "drainTimeoutS">): number {
  return PRE_STOP_SLEEP_S + Math.ceil(inst.drainTimeoutS) + GRACE_MARGIN_S;
}

/**
 * Requests and limits per kind. Node runs one event loop, so a pod rarely
 * uses more than one core; a resources instance holds its sessions in
 * memory, up to max_session_bytes (1 GiB by default), so its memory limit
 * is that plus 1 GiB.
 */
export function resourcesFor(inst: Pick<InstancePlan, "kind" | "config">): IResourceRequirements {
  if (inst.kind === "mock_model" || inst.kind === "nemo_gym_resources") {
    return { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };
  }
  if (inst.kind === "resources") {
    const sessions = (inst.config as { max_session_bytes?: number }).max_session_bytes ?? 1024 ** 3;
    const mib = Math.ceil(sessions / 1024 ** 2) + 1024;
    return { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: `${mib}Mi` } };
  }
  return { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } };
}

/**
 * Health is grpc.health.v1 on both ports (mesh/serve.ts); the kubelet's own
 * gRPC probe asks the grpc-js port of gRPC instances (what peers call) and
 * the main port of HTTP-only ones (the mock model). It speaks clear text
 * only, so with TLS the probes only check that the port accepts connections
 * (a draining server closes its listeners, so readiness still drops).
 */
function probes(inst: InstancePlan, tls: boolean): Pick<IContainer, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const port = inst.grpc ? GRPC_PORT : HTTP_PORT;
  const check: IProbe = tls ? { tcpSocket: { port: inst.grpc ? "grpc" : "http" } } : { grpc: { port } };
  return {
    // Up to 2 minutes to start (Node compiles the TypeScript at start) before liveness counts.
    startupProbe: { ...check, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
    // Out of the endpoints within ~10 s of reporting NOT_SERVING (SIGTERM).
    readinessProbe: { ...check, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    // A minute of failed checks before a restart: a long verify may keep the event loop busy for a while.
    livenessProbe: { ...check, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
  };
}

/** The variables the instance uses: secret ones from gym-secrets, the others from gym-env; optional when the config has a default. */
function envOf(inst: InstancePlan): IEnvVar[] {
  const env: IEnvVar[] = [{ name: INSTANCE_VAR, value: inst.name }];
  for (const v of inst.variables) {
    // A missing key of gym-env is fine whatever the config says: the loader then names the variable that is not set.
    const valueFrom = v.secret
      ? { secretKeyRef: { name: SECRET, key: v.name, optional: v.hasDefault } }
      : { configMapKeyRef: { name: ENV_CONFIG_MAP, key: v.name, optional: true } };
    env.push({ name: v.name, valueFrom });
  }
  return env;
}

/** The token file and the TLS files, from their Secrets, in one read-only folder. */
function secretFiles(security: SecurityPlan | undefined): { volume?: IVolume; mount?: IVolumeMount } {
  const sources: NonNullable<NonNullable<IVolume["projected"]>["sources"]> = [];
  if (security?.tokenFile) sources.push({ secret: { name: TOKEN_SECRET, items: [{ key: "token", path: "token" }] } });
  if (security?.tls) {
    const keys = ["tls.crt", "tls.key", ...(security.tls.ca ? ["ca.crt"] : [])];
    sources.push({ secret: { name: TLS_SECRET, items: keys.map((key) => ({ key, path: `tls/${key}` })) } });
  }
  if (sources.length === 0) return {};
  return {
    // Readable by the pod's group only (fsGroup).
    volume: { name: "secret-files", projected: { sources, defaultMode: 0o440 } },
    mount: { name: "secret-files", mountPath: SECRET_FILES_DIR, readOnly: true },
  };
}

export function deployment(inst: InstancePlan, replicas: number, mesh: MeshObjects): Deployment {
  const tls = mesh.security?.tls !== undefined;
  const files = secretFiles(mesh.security);
  const container: IContainer = {
    name: "gym",
    image: mesh.image,
    // The image's entrypoint is `gym`.
    args: ["serve", "--only", inst.name, "--host", "0.0.0.0", "--config", CONFIG_FILE],
    env: envOf(inst),
    ports: [
      { name: "http", containerPort: HTTP_PORT, protocol: "TCP" as const },
      ...(inst.grpc ? [{ name: "grpc", containerPort: GRPC_PORT, protocol: "TCP" as const }] : []),
    ],
    resources: resourcesFor(inst),
    ...probes(inst, tls),
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_S } } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    volumeMounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      // The one writable place (the TypeScript loader's cache): the root filesystem is read-only.
      { name: "tmp", mountPath: "/tmp" },
      ...(files.mount ? [files.mount] : []),
    ],
  };
  const d = new Deployment({
    metadata: { name: inst.dns, namespace: mesh.namespace, labels: instanceLabels(inst) },
    spec: {
      replicas,
      selector: { matchLabels: selectorLabels(inst) },
      // A new pod is ready before an old one goes: capacity never drops during a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: instanceLabels(inst), annotations: { [CONFIG_HASH_ANNOTATION]: mesh.configHash } },
        spec: {
          terminationGracePeriodSeconds: terminationGraceSeconds(inst),
          // The mesh never calls the Kubernetes API.
          automountServiceAccountToken: false,
          // No FOO_SERVICE_HOST/PORT variables for every Service: they could shadow the config's ${VAR}s.
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: "RuntimeDefault" } },
          containers: [container],
          volumes: [
            { name: "config", configMap: { name: CONFIG_MAP } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
            ...(files.volume ? [files.volume] : []),
          ],
        },
      },
    },
  });
  d.validate();
  return d;
}

/**
 * Headless for gRPC instances: the DNS name resolves to every ready pod, so
 * a gRPC client balances over pods itself (a ClusterIP would pin each
 * long-lived HTTP/2 connection to one pod). The mock model is plain HTTP: a
 * ClusterIP spreads its connections.
 */
export function service(inst: InstancePlan, mesh: MeshObjects): Service {
  const tls = mesh.security?.tls !== undefined;
  const s = new Service({
    metadata: { name: inst.dns, namespace: mesh.namespace, labels: instanceLabels(inst) },
    spec: {
      ...(inst.grpc ? { clusterIP: "None" } : { type: "ClusterIP" }),
      selector: selectorLabels(inst),
      ports: [
        { name: "http", port: HTTP_PORT, targetPort: "http", protocol: "TCP" as const },
        // Plain gRPC over cleartext HTTP/2 (prior knowledge): tells meshes and gateways not to speak HTTP/1.1 to it.
        ...(inst.grpc ? [{ name: "grpc", port: GRPC_PORT, targetPort: "grpc", protocol: "TCP" as const, ...(tls ? {} : { appProtocol: "kubernetes.io/h2c" }) }] : []),
      ],
    },
  });
  s.validate();
  return s;
}

/**
 * One pod at a time may be evicted (node drains, upgrades). With one replica
 * that still lets a drain through; pods that are not ready may always go, so
 * a crashing pod never blocks a drain.
 */
export function podDisruptionBudget(inst: InstancePlan, mesh: MeshObjects): PodDisruptionBudget {
  const pdb = new PodDisruptionBudget({
    metadata: { name: inst.dns, namespace: mesh.namespace, labels: instanceLabels(inst) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(inst) }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
  });
  pdb.validate();
  return pdb;
}

function sharedLabels(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
}

export function configMap(configYaml: string, mesh: MeshObjects): ConfigMap {
  const cm = new ConfigMap({ metadata: { name: CONFIG_MAP, namespace: mesh.namespace, labels: sharedLabels(CONFIG_MAP) }, data: { "config.yaml": configYaml } });
  cm.validate();
  return cm;
}

/** The non-secret variables; empty in the base (the config's defaults apply), set by overlays. */
export function envConfigMap(data: Record<string, string>, mesh: Pick<MeshObjects, "namespace">): ConfigMap {
  const cm = new ConfigMap({
    metadata: { name: ENV_CONFIG_MAP, namespace: mesh.namespace, labels: sharedLabels(ENV_CONFIG_MAP) },
    ...(Object.keys(data).length > 0 ? { data } : {}),
  });
  cm.validate();
  return cm;
}
