// gym k8s render, in memory: what each instance gets, that the config the
// pods read loads with the repo's own loader, where secrets come from, and
// what is refused.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../app/config.js";
import { startMesh } from "../app/start.js";
import { setQuiet } from "../mesh/log.js";
import { ConfigError, UsageError } from "../mesh/errors.js";
import { DNS_LABEL, dnsName } from "./names.js";
import { isSecretName } from "./variables.js";
import { MARKER, render, writeRendered, type Rendered } from "./render.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DEFAULT = path.join(ROOT, "config/default.yaml");
const GRPO = path.join(ROOT, "config/grpo.yaml");
const ENVIRONMENTS = path.join(ROOT, "config/environments.yaml");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-k8s-test-"));

/** A config file in a fresh folder. */
function configFile(text: string): string {
  const file = path.join(tmp(), "mesh.yaml");
  fs.writeFileSync(file, text);
  return file;
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

function objects(r: Rendered, prefix = "base/"): Obj[] {
  const out: Obj[] = [];
  for (const [file, text] of r.files) {
    if (!file.startsWith(prefix) || !file.endsWith(".yaml") || file.endsWith("kustomization.yaml")) continue;
    for (const doc of parseAllDocuments(text) as { toJS(): unknown }[]) out.push(doc.toJS() as Obj);
  }
  return out;
}

const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (objs: Obj[], name: string) => find(objs, "Deployment", name)!.spec.template.spec;
const container = (objs: Obj[], name: string) => podSpec(objs, name).containers[0];

/** The ConfigMap's config.yaml, loaded by the repo's loader from a file as the pods do. */
function podConfig(r: Rendered, env: NodeJS.ProcessEnv = {}) {
  const text = find(objects(r), "ConfigMap", "gym-config")!.data!["config.yaml"]!;
  const file = path.join(tmp(), "config.yaml");
  fs.writeFileSync(file, text);
  return { text, config: loadConfig(file, env) };
}

describe("gym k8s render: config/default.yaml", () => {
  const r = render({ config: DEFAULT, env: {} });
  const objs = objects(r);
  const names = ["mock-openai", "policy-model", "example-single-tool-call", "example-single-tool-call-simple-agent", "rollout"];

  it("gives every instance a Deployment, a Service and a PodDisruptionBudget, listed in the base's kustomization", () => {
    expect(r.plan.instances.map((i) => i.dns)).toEqual(names);
    for (const name of names) {
      for (const kind of ["Deployment", "Service", "PodDisruptionBudget"]) expect(find(objs, kind, name), `${kind} ${name}`).toBeDefined();
      expect(find(objs, "Deployment", name)!.spec.replicas).toBe(1);
    }
    const kustomization = parseYaml(r.files.get("base/kustomization.yaml")!);
    expect(kustomization.namespace).toBe("gym");
    const listed = [...r.files.keys()].filter((f) => f.startsWith("base/") && f.endsWith(".yaml") && !f.endsWith("kustomization.yaml")).map((f) => f.slice(5));
    expect([...kustomization.resources].sort()).toEqual(listed.sort());
    expect(objs.every((o) => o.metadata.namespace === "gym")).toBe(true);
    expect(objs.some((o) => o.kind === "Namespace" || o.kind === "Secret")).toBe(false);
  });

  it("runs gym serve --only INSTANCE on 0.0.0.0 with the mounted config, and sets INSTANCE", () => {
    const c = container(objs, "example-single-tool-call-simple-agent");
    expect(c.args).toEqual(["serve", "--only", "example_single_tool_call_simple_agent", "--host", "0.0.0.0", "--config", "/etc/gym/config.yaml"]);
    expect(c.env[0]).toEqual({ name: "INSTANCE", value: "example_single_tool_call_simple_agent" });
    expect(c.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/gym", readOnly: true });
    expect(podSpec(objs, "rollout").volumes).toContainEqual({ name: "config", configMap: { name: "gym-config" } });
    expect(c.image).toMatch(/^gym-mesh:\d+\.\d+\.\d+/);
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
  });

  it("probes grpc.health.v1 with the kubelet's gRPC probe on the grpc port (the main port for the HTTP-only mock)", () => {
    for (const inst of r.plan.instances) {
      const c = container(objs, inst.dns);
      const port = inst.kind === "mock_model" ? 8080 : 9090;
      expect(inst.grpc).toBe(inst.kind !== "mock_model");
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(c[probe].grpc, `${inst.dns} ${probe}`).toEqual({ port });
      expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toContain(port);
    }
  });

  it("gives pods longer than the drain to stop (preStop sleep + limits.drain_timeout_s + a margin)", () => {
    for (const inst of r.plan.instances) {
      expect(inst.drainTimeoutS).toBe(20);
      expect(podSpec(objs, inst.dns).terminationGracePeriodSeconds).toBeGreaterThan(20 + 5);
    }
    const slow = render({ config: configFile("instances:\n  r:\n    kind: resources\n    environment: mcqa\n    limits: { drain_timeout_s: 45.5 }\n"), env: {} });
    expect(podSpec(objects(slow), "r").terminationGracePeriodSeconds).toBe(5 + 46 + 10);
  });

  it("makes gRPC Services headless with http and grpc ports, the mock's a ClusterIP with http only", () => {
    const svc = find(objs, "Service", "policy-model")!;
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual([["http", 8080], ["grpc", 9090]]);
    expect(svc.spec.selector).toEqual(find(objs, "Deployment", "policy-model")!.spec.selector.matchLabels);
    const mock = find(objs, "Service", "mock-openai")!;
    expect(mock.spec.clusterIP).toBeUndefined();
    expect(mock.spec.ports.map((p: { name: string }) => p.name)).toEqual(["http"]);
    const pdb = find(objs, "PodDisruptionBudget", "rollout")!;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(find(objs, "Deployment", "rollout")!.spec.selector.matchLabels);
  });

  it("labels every instance's objects with name, instance, part-of and its kind", () => {
    for (const kind of ["Deployment", "Service", "PodDisruptionBudget"]) {
      expect(find(objs, kind, "example-single-tool-call")!.metadata.labels).toEqual({
        "app.kubernetes.io/name": "example-single-tool-call",
        "app.kubernetes.io/instance": "example-single-tool-call",
        "app.kubernetes.io/component": "resources",
        "app.kubernetes.io/part-of": "gym-mesh",
      });
    }
    expect(find(objs, "Deployment", "mock-openai")!.spec.template.metadata.labels["app.kubernetes.io/component"]).toBe("mock_model");
  });

  it("writes a config the loader reads back, with fixed ports and every instance at its in-cluster address", () => {
    const { text, config } = podConfig(r);
    // ${VAR} references stay as written: the pod substitutes them.
    expect(text).toContain("base_url: ${POLICY_BASE_URL:-mock_openai}");
    expect(text).toContain("api_key: ${POLICY_API_KEY:-none}");
    expect(Object.keys(config.instances)).toEqual(r.plan.instances.map((i) => i.name));
    for (const inst of r.plan.instances) {
      const loaded = config.instances[inst.name]! as { port?: number; grpc_port?: number };
      expect(loaded.port).toBe(8080);
      expect(loaded.grpc_port).toBe(inst.grpc ? 9090 : undefined);
      const host = `${inst.dns}.gym.svc.cluster.local`;
      expect(config.addresses![inst.name]).toBe(inst.grpc ? `grpc://${host}:9090` : `http://${host}:8080`);
    }
  });

  it("starts every instance alone, as its pod does (gym serve --only), with its peers at their in-cluster addresses", async () => {
    setQuiet(true);
    const { config } = podConfig(r);
    for (const inst of r.plan.instances) {
      // Free ports here, not the pod's 8080 and 9090; peers are reached only when called.
      const pod = structuredClone(config);
      for (const i of Object.values(pod.instances) as { port?: number; grpc_port?: number }[]) Object.assign(i, { port: 0 }, "grpc_port" in i ? { grpc_port: 0 } : {});
      const mesh = await startMesh(pod, { only: [inst.name], host: "127.0.0.1" });
      try {
        expect(mesh.instances.map((i) => i.name)).toEqual([inst.name]);
      } finally {
        await mesh.close();
      }
    }
  });

  it("takes secret variables from the Secret gym-secrets and the others from gym-env, never a value", () => {
    const env = container(objs, "policy-model").env as { name: string; value?: string; valueFrom?: any }[];
    expect(env.find((e) => e.name === "POLICY_API_KEY")).toEqual({ name: "POLICY_API_KEY", valueFrom: { secretKeyRef: { name: "gym-secrets", key: "POLICY_API_KEY", optional: true } } });
    expect(env.find((e) => e.name === "POLICY_BASE_URL")!.valueFrom).toEqual({ configMapKeyRef: { name: "gym-env", key: "POLICY_BASE_URL", optional: true } });
    // A switch with TOKEN in its name is no token.
    expect(env.find((e) => e.name === "POLICY_RETURN_TOKEN_IDS")!.valueFrom.configMapKeyRef).toBeDefined();
    expect(env.filter((e) => e.value !== undefined).map((e) => e.name)).toEqual(["INSTANCE"]);
    // Each instance gets the variables it uses, no more.
    expect(container(objs, "rollout").env.map((e: { name: string }) => e.name)).toEqual(["INSTANCE"]);
    expect(find(objs, "ConfigMap", "gym-env")!.data).toBeUndefined();
  });

  it("writes an overlay that uses the base, scales environments and agents, and points the model at vLLM", () => {
    const k = parseYaml(r.files.get("overlays/example/kustomization.yaml")!);
    expect(k.resources).toEqual(["../../base"]);
    expect(k.namespace).toBeUndefined();
    expect(k.replicas).toEqual([
      { name: "example-single-tool-call", count: 2 },
      { name: "example-single-tool-call-simple-agent", count: 2 },
    ]);
    // Every name it scales and every object it patches is in the base.
    for (const { name } of k.replicas) expect(find(objs, "Deployment", name)).toBeDefined();
    for (const { path: file } of k.patches) {
      const patch = parseYaml(r.files.get(`overlays/example/${file}`)!) as Obj;
      expect(find(objs, patch.kind, patch.metadata.name), file).toBeDefined();
    }
    const patch = parseYaml(r.files.get("overlays/example/gym-env.yaml")!) as Obj;
    expect(patch.metadata.name).toBe("gym-env");
    expect(patch.data).toMatchObject({ POLICY_BASE_URL: "http://vllm.gym.svc.cluster.local:8000/v1", POLICY_API: "chat_completions" });
    // What the pods read then: the loader with the overlay's values.
    const { config } = podConfig(r, patch.data);
    expect(config.instances.policy_model).toMatchObject({ base_url: "http://vllm.gym.svc.cluster.local:8000/v1", api: "chat_completions" });
    expect(r.files.get("base/kustomization.yaml")!.startsWith(`#${MARKER}`)).toBe(true);
  });
});

describe("gym k8s render: options", () => {
  it("sets replicas per instance by config or Kubernetes name", () => {
    const r = render({ config: GRPO, env: {}, replicas: ["example_single_tool_call_simple_agent=4", "policy-model=3"] });
    const objs = objects(r);
    expect(find(objs, "Deployment", "example-single-tool-call-simple-agent")!.spec.replicas).toBe(4);
    expect(find(objs, "Deployment", "policy-model")!.spec.replicas).toBe(3);
    expect(find(objs, "Deployment", "rollout")!.spec.replicas).toBe(1);
  });

  it("uses the namespace, image and cluster domain in the objects and addresses", () => {
    const r = render({ config: GRPO, env: {}, namespace: "rl-train", image: "registry.example/gym:1", clusterDomain: "corp.internal" });
    const objs = objects(r);
    expect(objs.every((o) => o.metadata.namespace === "rl-train")).toBe(true);
    expect(container(objs, "rollout").image).toBe("registry.example/gym:1");
    expect(podConfig(r).config.addresses!.rollout).toBe("grpc://rollout.rl-train.svc.corp.internal:9090");
    expect(parseYaml(r.files.get("overlays/example/gym-env.yaml")!).data.POLICY_BASE_URL).toBe("http://vllm.rl-train.svc.corp.internal:8000/v1");
  });

  it("refuses --replicas for an unknown instance, a count that is not a whole number of at least 1, or twice", () => {
    const refused = (spec: string[]) => () => render({ config: DEFAULT, env: {}, replicas: spec });
    expect(refused(["nope=2"])).toThrow(UsageError);
    expect(refused(["nope=2"])).toThrow(/no instance "nope" in .*default\.yaml \(instances: mock_openai, policy_model/);
    for (const bad of ["rollout=0", "rollout=1.5", "rollout=x", "rollout=-1", "rollout=", "rollout= 2", "rollout=1e3"]) {
      expect(refused([bad]), bad).toThrow(/whole number of at least 1/);
    }
    expect(refused(["rollout"])).toThrow(/give NAME=N/);
    expect(refused(["rollout=2", "rollout=3"])).toThrow(/given twice/);
  });

  it("refuses a namespace or image that Kubernetes would not take", () => {
    expect(() => render({ config: DEFAULT, env: {}, namespace: "Gym_NS" })).toThrow(UsageError);
    expect(() => render({ config: DEFAULT, env: {}, image: "two words" })).toThrow(/--image/);
  });
});

describe("gym k8s render: configs", () => {
  it("refuses a config the loader refuses, naming the file and the field", () => {
    const file = configFile("instances:\n  a:\n    kind: agent\n    model: m\n");
    expect(() => render({ config: file, env: {} })).toThrow(ConfigError);
    expect(() => render({ config: file, env: {} })).toThrow(`${file}: instances.a.resources:`);
    expect(() => render({ config: path.join(tmp(), "missing.yaml"), env: {} })).toThrow(/cannot read/);
    expect(() => render({ config: configFile("instances: [\n"), env: {} })).toThrow(/not valid YAML/);
    expect(() => render({ config: configFile(""), env: {} })).toThrow(/\(top level\): Invalid input: expected object/);
    expect(() => render({ config: configFile("instances:\n  a:\n    kind: nope\n"), env: {} })).toThrow(/instances\.a\.kind: unknown kind "nope"/);
    expect(() => render({ config: configFile("instances: {}\nsecurity:\n  token_env: not a name\n"), env: {} })).toThrow(/security\.token_env:/);
  });

  it("renders a config whose variables without defaults are not set here (the pod gets them), and says which when it fails", () => {
    const ok = configFile("instances:\n  m:\n    kind: model\n    base_url: http://x/v1\n    model: ${MODEL_NAME}\n    api_key: ${OPENAI_API_KEY}\n");
    const r = render({ config: ok, env: {} });
    const env = container(objects(r), "m").env;
    expect(env).toContainEqual({ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "gym-secrets", key: "OPENAI_API_KEY", optional: false } } });
    expect(env).toContainEqual({ name: "MODEL_NAME", valueFrom: { configMapKeyRef: { name: "gym-env", key: "MODEL_NAME", optional: true } } });
    const bad = configFile("instances:\n  m:\n    kind: model\n    base_url: ${BACKEND}\n    model: x\n");
    expect(() => render({ config: bad, env: {} })).toThrow(/placeholder for BACKEND/);
    expect(render({ config: bad, env: { BACKEND: "http://vllm:8000/v1" } }).plan.instances).toHaveLength(1);
  });

  it("keeps secrets out of every file: API keys, header values and the mesh token come from Secrets", () => {
    const file = configFile(
      [
        "instances:",
        "  m:",
        "    kind: model",
        "    base_url: http://upstream/v1",
        "    model: x",
        "    api_key: ${UPSTREAM_API_KEY:-none}",
        "    headers: { X-Auth: '${UPSTREAM_AUTH}' }",
        "security:",
        "  token_env: GYM_TOKEN",
      ].join("\n"),
    );
    const secretValues = { UPSTREAM_API_KEY: "sk-do-not-write-me-0001", UPSTREAM_AUTH: "auth-do-not-write-me-0002", GYM_TOKEN: "token-do-not-write-me-0003" };
    const r = render({ config: file, env: secretValues });
    for (const [name, text] of r.files) for (const value of Object.values(secretValues)) expect(text, name).not.toContain(value);
    const env = container(objects(r), "m").env as { name: string; valueFrom?: { secretKeyRef?: { optional: boolean } } }[];
    const fromSecret = Object.fromEntries(env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!.optional]));
    expect(fromSecret).toEqual({ GYM_TOKEN: false, UPSTREAM_API_KEY: true, UPSTREAM_AUTH: false });
  });

  it("mounts token and TLS files from Secrets, points the config at them, and uses TLS addresses and TCP probes", () => {
    const file = configFile("instances:\n  mock:\n    kind: mock_model\n  m:\n    kind: model\n    base_url: mock\n    model: x\nsecurity:\n  token_file: secrets/token\n  tls: { cert_file: tls/a.crt, key_file: tls/a.key, ca_file: tls/ca.pem }\n");
    const r = render({ config: file, env: {} });
    const objs = objects(r);
    const spec = podSpec(objs, "m");
    expect(spec.volumes).toContainEqual({
      name: "secret-files",
      projected: {
        defaultMode: 0o440,
        sources: [
          { secret: { name: "gym-token", items: [{ key: "token", path: "token" }] } },
          { secret: { name: "gym-tls", items: ["tls.crt", "tls.key", "ca.crt"].map((key) => ({ key, path: `tls/${key}` })) } },
        ],
      },
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "secret-files", mountPath: "/var/run/secrets/gym", readOnly: true });
    const text = find(objs, "ConfigMap", "gym-config")!.data!["config.yaml"]!;
    const pod = parseYaml(text);
    expect(pod.security).toEqual({
      token_file: "/var/run/secrets/gym/token",
      tls: { cert_file: "/var/run/secrets/gym/tls/tls.crt", key_file: "/var/run/secrets/gym/tls/tls.key", ca_file: "/var/run/secrets/gym/tls/ca.crt" },
    });
    expect(pod.addresses).toEqual({ mock: "https://mock.gym.svc.cluster.local:8080", m: "grpcs://m.gym.svc.cluster.local:9090" });
    // The kubelet's gRPC probe speaks clear text only.
    expect(spec.containers[0].readinessProbe.tcpSocket).toEqual({ port: "grpc" });
    expect(find(objs, "Service", "m")!.spec.ports[1].appProtocol).toBeUndefined();
  });

  it("names instances by DNS-1123 labels: _ becomes -, long names are cut with a hash, clashes are refused", () => {
    expect(dnsName("example_single_tool_call_simple_agent")).toBe("example-single-tool-call-simple-agent");
    const long = `a${"_very_long_name".repeat(6)}`;
    const cut = dnsName(long);
    expect(cut.length).toBeLessThanOrEqual(63);
    expect(cut).toMatch(DNS_LABEL);
    expect(cut).not.toBe(dnsName(`${long}_2`));
    const clash = configFile("instances:\n  env_a:\n    kind: resources\n    environment: mcqa\n  env__a:\n    kind: resources\n    environment: mcqa\n");
    expect(() => render({ config: clash, env: {} })).toThrow(/instances env_a and env__a would both be named "env-a"/);
  });

  it("keeps instance files apart from the base's own, whatever the instances are called", () => {
    const r = render({ config: configFile("instances:\n  kustomization:\n    kind: resources\n    environment: mcqa\n  gym_config:\n    kind: resources\n    environment: mcqa\n"), env: {} });
    expect(parseYaml(r.files.get("base/kustomization.yaml")!).resources).toEqual(["gym-config.yaml", "gym-env.yaml", "instances/kustomization.yaml", "instances/gym-config.yaml"]);
    expect(find(objects(r), "ConfigMap", "gym-config")).toBeDefined();
    expect(find(objects(r), "Deployment", "gym-config")).toBeDefined();
  });

  it("renders every built-in environment's config", () => {
    const r = render({ config: ENVIRONMENTS, env: {} });
    const objs = objects(r);
    expect(r.plan.instances.length).toBeGreaterThan(10);
    for (const inst of r.plan.instances) {
      expect(inst.dns).toMatch(DNS_LABEL);
      expect(find(objs, "Deployment", inst.dns)).toBeDefined();
    }
    // A resources instance may hold max_session_bytes of sessions: its memory limit leaves room for them.
    expect(container(objs, "mcqa").resources.limits.memory).toBe("2048Mi");
    expect(podConfig(r).config.addresses!.mcqa_simple_agent).toBe("grpc://mcqa-simple-agent.gym.svc.cluster.local:9090");
  });

  it("warns that relative replay files are not in the pod", () => {
    const r = render({ config: path.join(ROOT, "config/replay.yaml"), env: {} });
    expect(r.warnings.join("\n")).toMatch(/instances\.mock_openai\.replay\.files: relative paths/);
  });
});

describe("isSecretName", () => {
  it("tells credentials from switches", () => {
    for (const name of ["OPENAI_API_KEY", "GYM_TOKEN", "HF_TOKEN", "DB_PASSWORD", "CLIENT_SECRET", "SECRET_SAUCE", "AWS_ACCESS_KEY"]) expect(isSecretName(name), name).toBe(true);
    for (const name of ["POLICY_RETURN_TOKEN_IDS", "MAX_TOKENS", "POLICY_API", "POLICY_BASE_URL", "KEYBOARD_LAYOUT"]) expect(isSecretName(name), name).toBe(false);
  });
});

describe("writeRendered", () => {
  it("replaces an earlier render's base and example overlay, keeps your own overlays, refuses a folder of other things", () => {
    const dir = tmp();
    writeRendered(dir, render({ config: ENVIRONMENTS, env: {} }));
    fs.mkdirSync(path.join(dir, "overlays", "mine"));
    fs.writeFileSync(path.join(dir, "overlays", "mine", "kustomization.yaml"), "resources: [../../base]\n");
    writeRendered(dir, render({ config: DEFAULT, env: {} }));
    expect(fs.readdirSync(path.join(dir, "base")).sort()).toEqual(["README.md", "gym-config.yaml", "gym-env.yaml", "instances", "kustomization.yaml"]);
    expect(fs.readdirSync(path.join(dir, "base", "instances")).sort()).toEqual(
      ["example-single-tool-call-simple-agent.yaml", "example-single-tool-call.yaml", "mock-openai.yaml", "policy-model.yaml", "rollout.yaml"].sort(),
    );
    expect(fs.existsSync(path.join(dir, "overlays", "mine", "kustomization.yaml"))).toBe(true);
    const other = tmp();
    fs.writeFileSync(path.join(other, "notes.txt"), "mine");
    expect(() => writeRendered(other, render({ config: DEFAULT, env: {} }))).toThrow(/not empty and not an earlier gym k8s render/);
  });
});
