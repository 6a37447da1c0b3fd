// The mesh benchmark (`npm run bench`): rollouts/s of the full mesh
// (collector -> rollout -> agent -> model -> mock model, and the resources
// server) in both shapes (each service its own process; every instance but
// the mock in one process) against the bare loop of the same model calls with
// no mesh, at several concurrencies and mock latencies, with the CPU per
// rollout of each shape. Writes a markdown table to bench/results.md (--smoke:
// a temporary file). Not a test: it asserts nothing about timing.
// The bare loop runs in child processes (bench/bare-loop.ts).
//
//   npm run bench [-- --concurrency 1,64,1024,16384 --latency 0,1000 --steps 3]
//   npm run bench -- --smoke     one tiny level, fewer hop calls (CI: it still runs)
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Command } from "commander";
import { ResourcesService } from "../gen/gymmesh/v1/resources_pb.js";
import { CollectRequestSchema, RolloutService, type CollectRequest } from "../gen/gymmesh/v1/rollout_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import type { BareJob, BareResult } from "./bare-loop.js";
import { percentile, processStats, type ProcessStats } from "./proc.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GYM = path.join(ROOT, "bin/gym.js");
const ROW = JSON.parse(
  fs.readFileSync(path.join(ROOT, "services/environments/example_single_tool_call/data/example.jsonl"), "utf8").split("\n")[0]!,
);
const AGENT = "weather_agent";
/** Connections of every pool: the concurrency never waits for one. */
const POOL = 16_384;

interface Level {
  latencyMs: number;
  concurrency: number;
  rollouts: number;
}

interface Measured {
  rolloutsPerS: number;
  latenciesMs: number[];
  failures: number;
  /** The first failure's message, to say why. */
  firstError?: string;
}

// --- the mesh, one process per service -------------------------------------

const SERVICES = ["mock_openai", "policy_model", "weather", "weather_agent", "rollout"] as const;

// Every gRPC service also listens on a grpc-js port; peers (and the collector) call it there.
// Split (`addresses:`): each instance is started alone (--only) and finds the others there.
function meshConfig(latencyMs: number, steps: number, ports: Record<string, number>, grpcPorts: Record<string, number>, split = true): string {
  const addresses = SERVICES.map((s) => `  ${s}: ${s === "mock_openai" ? `http://127.0.0.1:${ports[s]}` : `grpc://127.0.0.1:${grpcPorts[s]}`}`).join("\n");
  return `instances:
  mock_openai:
    kind: mock_model
    port: ${ports.mock_openai}
    latency_s: ${latencyMs / 1000}
    tool_turns: ${steps - 1}
    # The bare loop opens a connection per rollout in flight (the default bound is 10,000).
    limits:
      max_connections: ${POOL + 1024}
  policy_model:
    kind: model
    port: ${ports.policy_model}
    grpc_port: ${grpcPorts.policy_model}
    base_url: http://127.0.0.1:${ports.mock_openai}/v1
    model: mock
    pool_connections: ${POOL}
    max_attempts: 1
  weather:
    kind: resources
    port: ${ports.weather}
    grpc_port: ${grpcPorts.weather}
    environment: example_single_tool_call
    max_sessions: ${POOL * 2}
  weather_agent:
    kind: agent
    port: ${ports.weather_agent}
    grpc_port: ${grpcPorts.weather_agent}
    model: policy_model
    resources: weather
    max_steps: ${steps}
  rollout:
    kind: rollout
    port: ${ports.rollout}
    grpc_port: ${grpcPorts.rollout}
    default_agent: weather_agent
    max_in_flight: ${POOL * 2}
${split ? `addresses:\n${addresses}\n` : ""}`;
}

// The same instances but the mock in one process (they call each other in-process), with a mock of their own
// in another (a mock shared with the split mesh would hold both meshes' connections: too many files at 16,384).
const ONE = SERVICES.filter((s) => s !== "mock_openai");

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startProcess(config: string, only: string | undefined): Promise<ChildProcess> {
  // GYM_BENCH_PROFILE_DIR=DIR writes a V8 CPU profile of each service process there.
  const profile = process.env.GYM_BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.GYM_BENCH_PROFILE_DIR}`] : [];
  // GYM_BENCH_NODE_FLAGS="--optimize-for-size ..." tries V8 flags on the service processes.
  const flags = (process.env.GYM_BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...flags, "--max-old-space-size=4096", GYM, "serve", "-c", config, ...(only ? ["--only", only] : [])], {
    cwd: ROOT,
    env: { ...process.env, GYM_LOG: "error" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of readline.createInterface({ input: child.stdout! })) if (line === "ready") return child;
  throw new Error(`${only ?? config} did not start`);
}

async function startMeshProcesses(latencyMs: number, steps: number) {
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const)));
  const grpcPorts = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gym-bench-")), "mesh.yaml");
  fs.writeFileSync(file, meshConfig(latencyMs, steps, ports, grpcPorts));
  const procs: Record<string, ChildProcess> = {};
  for (const s of SERVICES) procs[s] = await startProcess(file, s);
  return { ports, grpcPorts, procs };
}

/** The one-process shape and its own mock: both processes and its rollout service's grpc port. */
async function startMeshOneProcess(latencyMs: number, steps: number) {
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const)));
  const grpcPorts = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gym-bench-")), "one.yaml");
  fs.writeFileSync(file, meshConfig(latencyMs, steps, ports, grpcPorts, false));
  const mock = await startProcess(file, "mock_openai");
  return { rolloutGrpcPort: grpcPorts.rollout!, mock, proc: await startProcess(file, ONE.join(",")) };
}

async function runMesh(rolloutUrl: string, level: Level): Promise<Measured> {
  const client = clientFor(RolloutService, rolloutUrl);
  const task = taskFromJson(ROW);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let outstanding = 0;
  let freed: (() => void) | undefined;
  async function* tasks(): AsyncGenerator<CollectRequest> {
    for (let i = 0; i < level.rollouts; i++) {
      while (outstanding >= level.concurrency) await new Promise<void>((r) => (freed = r));
      outstanding++;
      sentAt.set(String(i), performance.now());
      yield create(CollectRequestSchema, { taskId: String(i), input: { case: "task", value: task } });
    }
  }
  const started = performance.now();
  for await (const result of client.collect(tasks())) {
    latencies.push(performance.now() - sentAt.get(result.taskId)!);
    if (result.outcome.case === "error") {
      failures++;
      firstError ??= `${result.outcome.value.code}: ${result.outcome.value.message}`;
    }
    outstanding--;
    freed?.();
  }
  return { rolloutsPerS: level.rollouts / ((performance.now() - started) / 1000), latenciesMs: latencies, failures, firstError };
}

// --- the bare loop: the same model calls, no mesh ----------------------------

/** Connections one bare-loop process opens at most (the file limit here is 20,000). */
const BARE_SHARD = 4_096;

/** Runs the bare loop in child processes (several at the largest levels), started together. */
async function runBare(mockUrl: string, level: Level, steps: number): Promise<Measured> {
  const shards = Math.ceil(level.concurrency / BARE_SHARD);
  const jobs: BareJob[] = Array.from({ length: shards }, (_, i) => ({
    mockUrl,
    steps,
    concurrency: Math.floor(level.concurrency / shards) + (i < level.concurrency % shards ? 1 : 0),
    rollouts: Math.floor(level.rollouts / shards) + (i < level.rollouts % shards ? 1 : 0),
  }));
  const children = jobs.map((job) =>
    spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/bare-loop.ts"), JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const lines = children.map((child) => readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
  for (const next of lines) if ((await next.next()).value !== "ready") throw new Error("the bare loop did not start");
  for (const child of children) child.stdin!.write("go\n");
  const results = await Promise.all(lines.map(async (next) => JSON.parse((await next.next()).value as string) as BareResult));
  const elapsedS = (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
  return {
    rolloutsPerS: level.rollouts / elapsedS,
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    failures: results.reduce((n, r) => n + r.failures, 0),
    firstError: results.find((r) => r.firstError)?.firstError,
  };
}

// --- the cost of one hop, by transport ----------------------------------------

interface HopCost {
  transport: string;
  callsPerS: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

/**
 * Unary CallTool calls (64 in flight) to the resources process, through each
 * transport a peer can use: its main port (connect-node) and its grpc-js port.
 */
async function measureHops(urls: { transport: string; url: string }[], serverPid: number, calls = 4_000): Promise<HopCost[]> {
  const out: HopCost[] = [];
  for (const { transport, url } of urls) {
    const client = clientFor(ResourcesService, url);
    const { sessionId } = await client.seedSession({ task: taskFromJson(ROW) });
    const call = () => client.callTool({ sessionId, name: "get_weather", arguments: '{"city": "San Francisco"}' });
    for (let i = 0; i < calls / 8; i++) await call(); // warm up
    const server0 = processStats(serverPid).cpuMs;
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => { while (next++ < calls) await call(); }));
    const elapsedMs = performance.now() - t0;
    const clientUsed = process.cpuUsage(client0);
    out.push({
      transport,
      callsPerS: (calls / elapsedMs) * 1000,
      serverCpuMs: (processStats(serverPid).cpuMs - server0) / calls,
      clientCpuMs: (clientUsed.user + clientUsed.system) / 1000 / calls,
    });
    await client.closeSession({ sessionId });
  }
  return out;
}

function hopTable(hops: HopCost[]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(["transport", "calls/s (64 in flight)", "server CPU per call", "client CPU per call"]),
    line(["---", "---", "---", "---"]),
    ...hops.map((h) => line([h.transport, h.callsPerS.toFixed(0), `${h.serverCpuMs.toFixed(3)} ms`, `${h.clientCpuMs.toFixed(3)} ms`])),
  ].join("\n");
}

// --- the table ----------------------------------------------------------------

interface Row {
  level: Level;
  bare: Measured;
  /** One process per service. */
  mesh: Measured;
  cpuMsPerRollout: Record<string, number>;
  peakMb: Record<string, number>;
  /** Every instance but the mock in one process. */
  one: Measured;
  oneCpuMsPerRollout: number;
  onePeakMb: number;
}

function table(rows: Row[], steps: number, hops: number): string {
  const head = [
    "model latency",
    "concurrency",
    "rollouts",
    "bare rollouts/s",
    "mesh rollouts/s (per service)",
    "mesh / bare",
    "mesh / ideal",
    "added p50",
    "added p99",
    "mesh CPU per rollout (per service)",
    "CPU per hop",
    "one-process rollouts/s",
    "one-process / bare",
    "one-process CPU per rollout",
    "failures (bare / per service / one process)",
    "peak memory (MB): mock / model / resources / agent / rollout / collector",
    "one-process peak memory (MB)",
  ];
  const lines = rows.map(({ level, bare, mesh, cpuMsPerRollout, peakMb, one, oneCpuMsPerRollout, onePeakMb }) => {
    const ideal = level.latencyMs > 0 ? level.concurrency / ((steps * level.latencyMs) / 1000) : NaN;
    const cpu = Object.values(cpuMsPerRollout).reduce((a, b) => a + b, 0);
    return [
      `${level.latencyMs} ms`,
      String(level.concurrency),
      String(level.rollouts),
      bare.rolloutsPerS.toFixed(1),
      mesh.rolloutsPerS.toFixed(1),
      (mesh.rolloutsPerS / bare.rolloutsPerS).toFixed(2),
      Number.isNaN(ideal) ? "-" : `${((100 * mesh.rolloutsPerS) / ideal).toFixed(0)}%`,
      `${(percentile(mesh.latenciesMs, 50) - percentile(bare.latenciesMs, 50)).toFixed(1)} ms`,
      `${(percentile(mesh.latenciesMs, 99) - percentile(bare.latenciesMs, 99)).toFixed(1)} ms`,
      `${cpu.toFixed(2)} ms`,
      `${(cpu / hops).toFixed(3)} ms`,
      one.rolloutsPerS.toFixed(1),
      (one.rolloutsPerS / bare.rolloutsPerS).toFixed(2),
      `${oneCpuMsPerRollout.toFixed(2)} ms`,
      `${bare.failures} / ${mesh.failures} / ${one.failures}`,
      ["mock_openai", "policy_model", "weather", "weather_agent", "rollout", "collector"].map((p) => peakMb[p]?.toFixed(0) ?? "-").join(" / "),
      onePeakMb.toFixed(0),
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...lines.map(line)].join("\n");
}

async function main() {
  const opts = new Command("bench")
    .option("--concurrency <list>", "comma-separated", "1,64,1024,16384")
    .option("--latency <list>", "mock model latency in ms, comma-separated", "0,1000")
    .option("--steps <n>", "model calls per rollout (tool calls + the answer)", "3")
    .option("--out <file>", "results file (default bench/results.md; --smoke: a temporary file)")
    .option("--smoke", "one tiny level (concurrency 4, latency 0, 40 rollouts) and fewer hop calls: checks that it runs (CI)", false)
    .parse()
    .opts<{ concurrency: string; latency: string; steps: string; out?: string; smoke: boolean }>();
  if (opts.smoke) {
    opts.concurrency = "4";
    opts.latency = "0";
  }
  const out = opts.out ?? (opts.smoke ? path.join(os.tmpdir(), "bench-smoke.md") : path.join(ROOT, "bench/results.md"));
  const steps = Number(opts.steps);
  // collector->rollout, rollout->agent, agent->resources (seed, tools, verify, close),
  // agent->model and model->mock per step.
  const hops = 2 + (2 + (steps - 1) + 2) + 2 * steps;
  const rows: Row[] = [];
  let hopCosts: HopCost[] = [];

  for (const latencyMs of opts.latency.split(",").map(Number)) {
    const { ports, grpcPorts, procs } = await startMeshProcesses(latencyMs, steps);
    const pids = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.pid!]));
    const oneProcess = await startMeshOneProcess(latencyMs, steps);
    procs.one_process = oneProcess.proc;
    procs.one_process_mock = oneProcess.mock;
    const oneUrl = `grpc://127.0.0.1:${oneProcess.rolloutGrpcPort}`;
    try {
      if (hopCosts.length === 0) {
        process.stderr.write("bench: the cost of one hop, by transport...\n");
        hopCosts = await measureHops(
          [
            { transport: "connect-node (main port), connect gRPC client", url: `http://127.0.0.1:${ports.weather}` },
            { transport: "grpc-js (grpc_port), grpc-js client (what the mesh uses)", url: `grpc://127.0.0.1:${grpcPorts.weather}` },
          ],
          pids.weather!,
          opts.smoke ? 200 : 4_000,
        );
      }
      // Warm the processes up (JIT), so the first level is measured like the others.
      const warmup = opts.smoke ? { latencyMs, concurrency: 4, rollouts: 16 } : { latencyMs, concurrency: 256, rollouts: 512 };
      await runMesh(`grpc://127.0.0.1:${grpcPorts.rollout}`, warmup);
      await runMesh(oneUrl, warmup);
      for (const concurrency of opts.concurrency.split(",").map(Number)) {
        // Two waves of the concurrency (one at the largest, to keep the run short).
        const waves = concurrency >= 8192 ? 1 : 2;
        const rollouts = opts.smoke ? 40 : Math.max(waves * concurrency, latencyMs > 0 ? 20 : 500);
        const level = { latencyMs, concurrency, rollouts };
        process.stderr.write(`bench: ${latencyMs} ms, concurrency ${concurrency}, ${rollouts} rollouts...\n`);
        const bare = await runBare(`http://127.0.0.1:${ports.mock_openai}`, level, steps);
        const before: Record<string, ProcessStats> = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processStats(pid)]));
        const mesh = await runMesh(`grpc://127.0.0.1:${grpcPorts.rollout}`, level);
        const cpuMsPerRollout: Record<string, number> = {};
        const peakMb: Record<string, number> = {};
        for (const [name, pid] of Object.entries(pids)) {
          const after = processStats(pid);
          if (name !== "mock_openai") cpuMsPerRollout[name] = (after.cpuMs - before[name]!.cpuMs) / rollouts;
          peakMb[name] = after.peakRssMb;
        }
        peakMb.collector = processStats(process.pid).peakRssMb;
        // The one-process shape, on the same mock and level.
        const oneBefore = processStats(oneProcess.proc.pid!).cpuMs;
        const one = await runMesh(oneUrl, level);
        const oneAfter = processStats(oneProcess.proc.pid!);
        const oneCpuMsPerRollout = (oneAfter.cpuMs - oneBefore) / rollouts;
        rows.push({ level, bare, mesh, cpuMsPerRollout, peakMb, one, oneCpuMsPerRollout, onePeakMb: oneAfter.peakRssMb });
        for (const [what, m] of [["bare", bare], ["mesh", mesh], ["one process", one]] as const) {
          if (m.firstError) process.stderr.write(`  ${what}: ${m.failures} failed, first: ${m.firstError.slice(0, 300)}\n`);
        }
        const perProcess = Object.entries(cpuMsPerRollout).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
        process.stderr.write(
          `  bare ${bare.rolloutsPerS.toFixed(1)}/s, mesh ${mesh.rolloutsPerS.toFixed(1)}/s (CPU ms per rollout: ${perProcess}), ` +
            `one process ${one.rolloutsPerS.toFixed(1)}/s (CPU ms per rollout ${oneCpuMsPerRollout.toFixed(2)})\n`,
        );
      }
    } finally {
      await Promise.all(Object.values(procs).map((p) => new Promise((resolve) => (p.once("exit", resolve), p.kill("SIGTERM")))));
    }
  }

  const load = os.loadavg().map((x) => x.toFixed(2)).join(", ");
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()}; load average at the end (1, 5, 15 min): ${load} (anything else running disturbs the figures)`;
  const text = `# Mesh benchmark\n\nMachine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.\n` +
    `Rollouts of ${steps} model calls (${steps - 1} tool calls, then the answer) against the built-in mock model; ` +
    `the mesh runs each service in its own process, and they (and the collector) call each other on their grpc-js ports; ` +
    `the bare loop makes the same model calls with the OpenAI SDK straight to the mock, with no mesh, from its own process ` +
    `(one per ${BARE_SHARD} connections: a process holds at most 20,000 files here). ` +
    `"Ideal" is concurrency / (${steps} x model latency). "Added" latency is mesh minus bare at that percentile. ` +
    `CPU per rollout sums the mesh processes except the mock; CPU per hop divides it by the ${hops} calls between processes a rollout makes. ` +
    `The one-process shape runs the same instances but the mock in one process (they call each other in-process), with a mock of its own in another, right after the split mesh at each level; ` +
    `its CPU per rollout is that process's.${opts.smoke ? " **Smoke run**: one tiny level, to check that the benchmark runs; its figures mean nothing." : ""}\n\n` +
    table(rows, steps, hops) + "\n\n" +
    `## The cost of one hop\n\nUnary ResourcesService.CallTool calls to the resources process, 64 in flight, through each transport; ` +
    `CPU of the server process and of the calling (benchmark) process, per call.\n\n` +
    hopTable(hopCosts) + "\n";
  fs.writeFileSync(out, text);
  process.stdout.write(text);
}

await main();
