// The mesh on a real container engine: the image built from deploy/Containerfile
// with podman (on an offline Debian base), the manifests of `gym k8s render`
// run with `podman kube play`, two replicas of the resources and the agent
// instance, and a dataset collected from the host through the rollout pod
// while one resources pod and one agent pod are replaced. Every (row, repeat)
// must land exactly once with no failure, every replica must have served
// calls (its /metrics) and every pod must answer the gRPC health probe.
//
// podman has no Services and no cluster DNS: what the test changes in the
// rendered objects, and why, is in adaptForPodman below and deploy/README.md.
// Fails (never skips) where podman cannot run. Run by `npm run test:engine`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus, Health } from "../../gen/grpc/health/v1/health_pb.js";
import { clientFor } from "../../services/mesh/clients.js";
import { readJsonl, ROOT, run } from "../../testing/helpers.js";

const IMAGE = "localhost/gym-mesh:engine-test";
const RUN = `gym-engine-${process.pid}`;
const NETWORK = RUN;
const AGENT = "example_single_tool_call_simple_agent";
const REPLICAS = { example_single_tool_call: 2, [AGENT]: 2 } as Record<string, number>;
const ROWS = fs.readFileSync(path.join(ROOT, "services/environments/example_single_tool_call/data/example.jsonl"), "utf8").trim().split("\n");
const REPEATS = 100;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gym-engine-"));

// The default mesh with a slower mock model, so rollouts are in flight while pods are replaced.
const CONFIG = `
instances:
  mock_openai:
    kind: mock_model
    latency_s: 0.15
  policy_model:
    kind: model
    base_url: mock_openai
    model: mock
  example_single_tool_call:
    kind: resources
    environment: example_single_tool_call
  ${AGENT}:
    kind: agent
    agent: simple_agent
    model: policy_model
    resources: example_single_tool_call
  rollout:
    kind: rollout
    default_agent: ${AGENT}
`;

/** A command of the test, bounded by `timeoutMs` (the image build takes minutes). */
const exec = (cmd: string, args: string[], timeoutMs = 120_000) => run(cmd, args, {}, timeoutMs);

async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await exec(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

const kubeName = (instance: string) => instance.replace(/_/g, "-");
const podName = (instance: string, i: number) => `${kubeName(instance)}-pod-${i}`;
/** podman kube play names a Deployment's pods NAME-pod-I and their containers POD-CONTAINER. */
const containerOf = (pod: string) => `${pod}-gym`;

async function podIp(pod: string): Promise<string> {
  const ip = (await must("podman", ["inspect", containerOf(pod), "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"])).trim();
  if (!ip) throw new Error(`${pod}: no IP address`);
  return ip;
}

/**
 * The rendered base as podman runs it: ConfigMaps and Deployments only (it
 * has no Services or PodDisruptionBudgets); peers addressed by their pods'
 * names (aardvark-dns on the test's network resolves those, not Service
 * names), each replicated instance as the list of its pods' names; no
 * containerPorts (podman 4 publishes them on the host, where two replicas
 * would collide; pods reach each other on the network directly).
 */
function adaptForPodman(baseDir: string): string {
  const docs: Record<string, any>[] = [];
  for (const file of ["gym-config.yaml", "gym-env.yaml", ...fs.readdirSync(path.join(baseDir, "instances")).map((f) => `instances/${f}`)]) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(baseDir, file), "utf8"))) {
      const object = doc.toJS() as Record<string, any> | null;
      if (object && (object.kind === "ConfigMap" || object.kind === "Deployment")) docs.push(object);
    }
  }
  for (const object of docs) {
    if (object.kind === "Deployment") {
      for (const container of object.spec.template.spec.containers) delete container.ports;
    } else if (object.metadata.name === "gym-config") {
      const config = parseYaml(object.data["config.yaml"]) as { addresses: Record<string, string> };
      for (const [name, address] of Object.entries(config.addresses)) {
        const url = new URL(address);
        const pods = Array.from({ length: REPLICAS[name] ?? 1 }, (_, i) => `${podName(name, i)}:${url.port}`);
        config.addresses[name] = `${url.protocol}//${pods.join(",")}`;
      }
      object.data["config.yaml"] = stringify(config);
    }
  }
  const file = path.join(tmp, "podman.yaml");
  fs.writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

/** The pods' grpc.health.v1 answer where the rendered probe asks it: the grpc port, or the main port of the HTTP-only mock model. */
async function healthOf(pod: string): Promise<string> {
  const ip = await podIp(pod);
  const health = clientFor(Health, pod.startsWith(kubeName("mock_openai")) ? `http://${ip}:8080` : `grpc://${ip}:9090`);
  try {
    const { status } = await health.check({}, { timeoutMs: 2_000 });
    return HealthCheckResponse_ServingStatus[status];
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function waitServing(pods: string[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const states = await Promise.all(pods.map(async (p) => `${p}=${await healthOf(p).catch((e: Error) => e.message)}`));
    if (states.every((s) => s.endsWith("=SERVING"))) return;
    if (Date.now() > deadline) throw new Error(`pods not serving within 90 s: ${states.join(", ")}\n${await engineState(pods)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What podman says of the pods' containers (state and last log lines), for a failure's message. */
async function engineState(pods: string[]): Promise<string> {
  const ps = await exec("podman", ["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
  const logs = await Promise.all(pods.map(async (p) => `--- ${containerOf(p)}\n${(await exec("podman", ["logs", "--tail", "15", containerOf(p)])).stdout}`));
  return [ps.stdout, ...logs].join("\n");
}

/** gRPC calls a pod served since it started, from its /metrics on the main port. */
async function callsServed(pod: string): Promise<number> {
  const text = await (await fetch(`http://${await podIp(pod)}:8080/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let total = 0;
  for (const m of text.matchAll(/^gym_rpc_requests_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  return total;
}

/** A rolling restart of one pod: SIGTERM (the drain), then a new process with a new address. */
async function replace(pod: string): Promise<void> {
  await must("podman", ["pod", "stop", "-t", "30", pod], 60_000);
  await must("podman", ["pod", "start", pod], 60_000);
  await waitServing([pod]);
}

const allPods = () =>
  ["mock_openai", "policy_model", "example_single_tool_call", AGENT, "rollout"].flatMap((name) => Array.from({ length: REPLICAS[name] ?? 1 }, (_, i) => podName(name, i)));

let kubeFile = "";

beforeAll(async () => {
  const info = await exec("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
  if (info.code !== 0) throw new Error(`podman cannot run here (install it: apt-get install podman runc debootstrap; see deploy/README.md): ${info.stderr}`);

  const base = process.env.GYM_BASE_IMAGE ?? (await must("bash", [path.join(ROOT, "scripts/offline-base-image.sh")], 600_000)).trim().split("\n").pop()!;
  // Behind a TLS-inspecting proxy the build stage's npm needs this machine's CA bundle.
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const caArgs = ca ? ["--build-arg", `NODE_EXTRA_CA_CERTS=${ca}`, "--volume", `${path.dirname(ca)}:${path.dirname(ca)}:ro`] : [];
  await must("podman", ["build", "-q", "-f", "deploy/Containerfile", "--build-arg", `BASE=${base}`, ...caArgs, "-t", IMAGE, "."], 900_000);

  fs.writeFileSync(path.join(tmp, "mesh.yaml"), CONFIG);
  const replicas = Object.entries(REPLICAS).flatMap(([name, n]) => ["--replicas", `${name}=${n}`]);
  await must(process.execPath, [path.join(ROOT, "bin/gym.js"), "k8s", "render", "--config", path.join(tmp, "mesh.yaml"), "--image", IMAGE, ...replicas, "--out", path.join(tmp, "k8s")]);
  await must("bash", [path.join(ROOT, "scripts/validate-manifests.sh"), path.join(tmp, "k8s")], 300_000);
  kubeFile = adaptForPodman(path.join(tmp, "k8s/base"));

  await must("podman", ["network", "create", NETWORK]);
  await must("podman", ["kube", "play", "--network", NETWORK, kubeFile], 300_000);
  await waitServing(allPods());
}, 1_500_000);

afterAll(async () => {
  if (kubeFile) await exec("podman", ["kube", "down", kubeFile], 120_000);
  await exec("podman", ["network", "rm", "-f", NETWORK]);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe("the image and the rendered manifests on podman", () => {
  it("collects every (row, repeat) exactly once while a resources pod and an agent pod are replaced", async () => {
    const input = path.join(tmp, "rows.jsonl");
    const output = path.join(tmp, "rollouts.jsonl");
    fs.writeFileSync(input, ROWS.join("\n") + "\n");
    const rollout = await podIp(podName("rollout", 0));
    const collect = spawn(
      process.execPath,
      [path.join(ROOT, "bin/gym.js"), "collect", "--url", `grpc://${rollout}:9090`, "--agent", AGENT, "--input", input, "--output", output, "--num-repeats", String(REPEATS), "--concurrency", "8"],
      { cwd: ROOT, env: { ...process.env, GYM_LOG: "off" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let printed = "";
    collect.stdout.on("data", (c: Buffer) => (printed += c));
    collect.stderr.on("data", (c: Buffer) => (printed += c));
    const exited = new Promise<number | null>((resolve) => collect.on("exit", resolve));
    const timer = setTimeout(() => collect.kill("SIGKILL"), 600_000);

    // Replace the pods while rollouts are in flight: once some lines have landed, and before the end.
    const landed = () => (fs.existsSync(output) ? fs.readFileSync(output, "utf8").split("\n").filter(Boolean).length : 0);
    while (landed() < 20) await new Promise((r) => setTimeout(r, 200));
    await replace(podName("example_single_tool_call", 1));
    const afterResources = landed();
    await replace(podName(AGENT, 1));
    const afterAgent = landed();

    console.info(`engine: ${afterResources} and ${afterAgent} of ${ROWS.length * REPEATS} rollouts had landed after each replacement`);
    const code = await exited;
    clearTimeout(timer);
    expect(code, printed).toBe(0);
    // The restarts happened mid-run: rollouts landed after each, and the run was not over before them.
    expect(afterResources).toBeLessThan(ROWS.length * REPEATS);
    expect(afterAgent).toBeLessThan(ROWS.length * REPEATS);

    const lines = readJsonl(output);
    const keys = lines.map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(lines.length).toBe(ROWS.length * REPEATS);
    const failures = path.join(tmp, "rollouts_failures.jsonl");
    expect(fs.existsSync(failures) ? readJsonl(failures) : []).toEqual([]);
    expect(lines.every((l) => l.reward === 1)).toBe(true);
    console.info(`engine: rollouts tried more than once: ${lines.filter((l) => Number(l._ng_attempts ?? 1) > 1).length}`);

    // Both replicas of each served calls, the replaced ones since they came back too.
    for (const name of ["example_single_tool_call", AGENT]) {
      for (let i = 0; i < 2; i++) expect(await callsServed(podName(name, i)), podName(name, i)).toBeGreaterThan(0);
    }
  }, 900_000);

  it("answers the gRPC health probe on every pod, and runs as a non-root user", async () => {
    for (const pod of allPods()) expect(await healthOf(pod), pod).toBe("SERVING");
    const uid = await must("podman", ["exec", containerOf(podName("rollout", 0)), "/usr/bin/id", "-u"]);
    expect(uid.trim()).toBe("10001");
  });
});
