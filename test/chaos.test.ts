// Peer restarts are ridden out: a mesh split into one process per service
// (as in Kubernetes) collects a few hundred rollouts while its services are
// restarted (SIGTERM, then start) and killed (-9, then start), on 127.0.0.1
// only. Every (row, repeat) ends up written exactly once, with zero failures.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_DATA, ROOT, readJsonl } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const AGENT = "agent";
const SERVICES = ["mock_openai", "policy_model", "weather", AGENT, "rollout"] as const;
type Service = (typeof SERVICES)[number];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-chaos-"));
const running = new Map<Service, ChildProcess>();
afterAll(async () => {
  for (const child of running.values()) child.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Each service on fixed ports, the others at their grpc:// addresses (the mock at its http:// one). */
async function writeConfig(): Promise<{ file: string; rolloutUrl: string; agentHttp: string }> {
  const ports = new Map<Service, { http: number; grpc: number }>();
  for (const s of SERVICES) ports.set(s, { http: await freePort(), grpc: await freePort() });
  const at = (s: Service) => ports.get(s)!;
  const grpc = (s: Service) => `    port: ${at(s).http}\n    grpc_port: ${at(s).grpc}\n`;
  const file = path.join(dir, "mesh.yaml");
  fs.writeFileSync(
    file,
    `instances:
  mock_openai:
    kind: mock_model
    port: ${at("mock_openai").http}
    latency_s: 0.15
  policy_model:
    kind: model
    base_url: mock_openai
    model: mock
${grpc("policy_model")}  weather:
    kind: resources
    environment: example_single_tool_call
${grpc("weather")}  ${AGENT}:
    kind: agent
    model: policy_model
    resources: weather
${grpc(AGENT)}  rollout:
    kind: rollout
    default_agent: ${AGENT}
    # Six disruptions in about fifteen seconds, far denser than a rolling
    # update: one rollout may be hit by three of them (a kill, a lost session,
    # another kill), so it gets five tries here (the default is three).
    max_attempts: 5
${grpc("rollout")}addresses:
  mock_openai: http://127.0.0.1:${at("mock_openai").http}
${SERVICES.filter((s) => s !== "mock_openai")
  .map((s) => `  ${s}: grpc://127.0.0.1:${at(s).grpc}`)
  .join("\n")}
`,
  );
  return { file, rolloutUrl: `grpc://127.0.0.1:${at("rollout").grpc}`, agentHttp: `http://127.0.0.1:${at(AGENT).http}` };
}

/** Starts one service in its own process; resolves once it prints `ready`. */
function start(config: string, service: Service): Promise<void> {
  const child = spawn(process.execPath, [GYM, "serve", "-c", config, "--only", service], {
    cwd: ROOT,
    env: { ...process.env, GYM_LOG: "off" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  running.set(service, child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} did not start within 30 s`)), 30_000);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (line === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`${service} exited with ${code} before it was ready`)));
  });
}

const exitCodes = new Map<Service, number | null>();

/** Stops a service with a signal and waits (bounded) until it is gone. */
async function stop(service: Service, signal: NodeJS.Signals): Promise<void> {
  const child = running.get(service)!;
  const exited = new Promise<void>((resolve) => child.once("exit", (code) => (exitCodes.set(service, code), resolve())));
  child.kill(signal);
  await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`${service} did not exit on ${signal}`)), 40_000))]);
  running.delete(service);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function collect(rolloutUrl: string, out: string, repeats: number) {
  const child = spawn(
    process.execPath,
    [GYM, "collect", "--url", rolloutUrl, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", String(repeats), "--concurrency", "16"],
    { cwd: ROOT, env: { ...process.env, GYM_LOG: "error" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

/** The distinct errors of a failures file, for an assertion's message. */
function failuresOf(file: string): string {
  if (!fs.existsSync(file)) return "no failures file";
  const errors = readJsonl(file).map((l) => JSON.stringify(l.error));
  return [...new Set(errors)].join("\n");
}

function pairsOf(file: string): string[] {
  return fs.existsSync(file) ? readJsonl(file).map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`) : [];
}

describe("chaos: a split mesh rides out restarts of its services", () => {
  let file: string;
  let rolloutUrl: string;
  let agentHttp: string;
  beforeAll(async () => {
    ({ file, rolloutUrl, agentHttp } = await writeConfig());
    for (const s of SERVICES) await start(file, s);
  }, 120_000);

  it(
    "restarting and killing the model, resources and agent services loses and duplicates nothing, and fails nothing",
    async () => {
      const out = path.join(dir, "rollouts.jsonl");
      const run = collect(rolloutUrl, out, 60); // 5 rows x 60 = 300 rollouts
      const outcome = { code: -1 as number | null, stdout: "", stderr: "" };
      void run.done.then((r) => Object.assign(outcome, r));
      // Each of model, resources and agent: SIGTERM + start, then kill -9 + start, while rollouts are in flight.
      for (const service of ["policy_model", "weather", AGENT] as const) {
        for (const signal of ["SIGTERM", "SIGKILL"] as const) {
          if (outcome.code !== -1) break;
          await pause(500);
          await stop(service, signal);
          await start(file, service);
        }
      }
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      const pairs = pairsOf(out);
      expect(pairs, failuresOf(path.join(dir, "rollouts_failures.jsonl"))).toHaveLength(300);
      expect(new Set(pairs).size).toBe(300);
      expect(result.stdout).toMatch(/^300 rollouts, mean reward 1\.0000, 0 failed/m);
      expect(fs.existsSync(path.join(dir, "rollouts_failures.jsonl")) ? readJsonl(path.join(dir, "rollouts_failures.jsonl")) : []).toEqual([]);
      // Some rollouts did need another try: the kills really hit rollouts in flight.
      expect(readJsonl(out).some((l) => Number(l._ng_attempts) > 1)).toBe(true);
      expect(readJsonl(out).every((l) => Number(l._ng_attempts) >= 1 && Number(l._ng_attempts) <= 5)).toBe(true);
    },
    180_000,
  );

  it(
    "a restart of the rollout service itself: the collector reconnects and completes the run",
    async () => {
      const out = path.join(dir, "again.jsonl");
      const run = collect(rolloutUrl, out, 30); // 150 rollouts
      await pause(1_500);
      await stop("rollout", "SIGKILL");
      await start(file, "rollout");
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      const pairs = pairsOf(out);
      expect(pairs, failuresOf(path.join(dir, "again_failures.jsonl"))).toHaveLength(150);
      expect(new Set(pairs).size).toBe(150);
      expect(result.stdout).toMatch(/0 failed/);
    },
    120_000,
  );

  it(
    "SIGTERM to the rollout service with a Collect stream open: it starts no new rollout, exits 0 well inside the grace period, and the collector resumes",
    async () => {
      const out = path.join(dir, "drained.jsonl");
      const run = collect(rolloutUrl, out, 30); // 150 rollouts, 16 in flight
      await pause(1_500);
      // Runs started so far (answered + running), read just before the signal.
      const startedBefore = await agentRunsStarted(agentHttp);
      const signalled = performance.now();
      await stop("rollout", "SIGTERM");
      const exitedAfterMs = performance.now() - signalled;
      const code = exitCodes.get("rollout");
      // The open stream did not keep the process until the drain timeout (20 s) or the 30 s grace.
      expect(code).toBe(0);
      expect(exitedAfterMs).toBeLessThan(15_000);
      // Only rollouts already in flight finished after the signal: none was started. The
      // slack is the rollouts that may start between that reading and the signal's delivery
      // (at most one more window of 16); a service that kept starting would run up to 150.
      expect((await agentRunsStarted(agentHttp)) - startedBefore).toBeLessThanOrEqual(16);
      await start(file, "rollout");
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      const pairs = pairsOf(out);
      expect(pairs, failuresOf(path.join(dir, "drained_failures.jsonl"))).toHaveLength(150);
      expect(new Set(pairs).size).toBe(150);
    },
    120_000,
  );
});

/** AgentService.Run calls the agent has started: answered plus running, from one read of its /metrics. */
async function agentRunsStarted(agentHttp: string): Promise<number> {
  const text = await (await fetch(`${agentHttp}/metrics`)).text();
  const answered = [...text.matchAll(/gym_rpc_requests_total\{[^}]*method="Run"[^}]*\} (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  const running = Number(/^gym_rollouts_in_flight(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
  return answered + running;
}
