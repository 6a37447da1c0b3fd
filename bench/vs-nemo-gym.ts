// NeMo Gym against gym-mesh (`npm run bench:nemo-gym`): NeMo Gym's newest
// release (its own `gym env start` and `gym eval run --no-serve`, in the
// chroot of scripts/nemo-gym-env.sh) and gym-mesh in three shapes (every
// instance in one process; the same in N worker processes, `gym serve
// --workers N` collected with `--streams N`; one process per service), all calling one shared
// gym-mesh mock model (`kind: mock_model`, the OpenAI HTTP API) on the same
// example_single_tool_call rows (model call, tool call, model call, verify).
// For each point (concurrency x model latency) the systems run in rotation,
// --repeats times; the table has medians. Both systems must write the same
// number of rollouts with the same mean reward, or the row says why not and
// the command exits 1 (so does a system that fails to start); timing never
// fails it. Writes bench/vs-nemo-gym.md (--smoke: a temporary file) and prints it.
//
//   npm run bench:nemo-gym [-- --concurrency 64,512,4096 --latency 0,0.2 --repeats 3 --rollouts N --workers N]
//   npm run bench:nemo-gym -- --smoke      one tiny point, one repeat (CI)
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { connectedTo, groupStats, median, processTree, resetPeak, type ProcessStats } from "./proc.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GYM = path.join(ROOT, "bin/gym.js");
const ROWS = fs
  .readFileSync(path.join(ROOT, "services/environments/example_single_tool_call/data/example.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim());
const AGENT = "example_single_tool_call_simple_agent";
const NEMO_GYM_CONFIGS = [
  "resources_servers/example_single_tool_call/configs/example_single_tool_call.yaml",
  "responses_api_models/openai_model/configs/openai_model.yaml",
];
/** NeMo Gym's default per-host connection budget (global_aiohttp_connector_limit_per_host). */
const NEMO_GYM_PER_HOST = 1024;
/** gym-mesh's defaults of the model's pool_connections and the rollout service's max_in_flight. */
const MESH_POOL = 256;
/** Rollouts per run by default at least: the ramp at a run's start and its drain at the end weigh little. */
const MIN_ROLLOUTS = 3000;
const MESH_IN_FLIGHT = 4096;

type SystemKey = "nemo_gym" | "mesh_one" | "mesh_workers" | "mesh_split";
/** The systems, in the order of the table (and of the first repeat). */
const SYSTEM_KEYS = ["nemo_gym", "mesh_one", "mesh_workers", "mesh_split"] as const;
/** Workers of the mesh_workers shape (--workers). */
let WORKERS = os.availableParallelism();
const SYSTEM_NAMES: Record<SystemKey, string> = {
  nemo_gym: "NeMo Gym",
  mesh_one: "gym-mesh, one process",
  get mesh_workers() {
    return `gym-mesh, ${WORKERS} workers (gym serve --workers ${WORKERS})`;
  },
  mesh_split: "gym-mesh, one process per service",
};

interface Options {
  concurrency: number[];
  latencyS: number[];
  repeats: number;
  rollouts?: number;
  smoke: boolean;
  out: string;
  keep: boolean;
  workers: number;
}

// --- processes -------------------------------------------------------------------

const started: ChildProcess[] = [];
/** NeMo Gym's `gym env start` processes (stopped with SIGINT) and their servers' pids. */
const nemoGymStarts = new Set<ChildProcess>();
const nemoGymServerPids = new Set<number>();

// Stopped from outside (Ctrl-C, CI's timeout): stop what was started, so nothing outlives the benchmark.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench:nemo-gym: ${signal}: stopping what it started\n`);
    for (const child of started) if (!exited(child)) child.kill(nemoGymStarts.has(child) ? "SIGINT" : "SIGTERM");
    setTimeout(() => {
      for (const pid of nemoGymServerPids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      for (const child of started) if (!exited(child)) child.kill("SIGKILL");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }, 8_000);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts a process whose output goes to a log file (stdout piped too when asked). */
function start(cmd: string, args: string[], log: string, options: { env?: NodeJS.ProcessEnv; pipeStdout?: boolean } = {}): ChildProcess {
  const fd = fs.openSync(log, "a");
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", options.pipeStdout ? "pipe" : fd, fd],
  });
  fs.closeSync(fd);
  started.push(child);
  return child;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops a process we started (SIGINT or SIGTERM, then SIGKILL), and the given pids left after it. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", leftovers: number[] = []): Promise<void> {
  if (!exited(child)) {
    child.kill(signal);
    if (!(await waitExit(child, 20_000))) {
      child.kill("SIGKILL");
      await waitExit(child, 5_000);
    }
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue; // gone
    }
    await sleep(2_000);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** `gym serve`: resolves once it prints "ready". */
async function gymServe(config: string, only: string | undefined, log: string, workers = 1): Promise<ChildProcess> {
  const args = [GYM, "serve", "-c", config, ...(only ? ["--only", only] : []), ...(workers > 1 ? ["--workers", String(workers)] : [])];
  const child = start(process.execPath, args, log, { env: { ...process.env, GYM_LOG: "error" }, pipeStdout: true });
  const out = fs.createWriteStream(log, { flags: "a" });
  for await (const line of readline.createInterface({ input: child.stdout! })) {
    out.write(line + "\n");
    if (line === "ready") {
      child.stdout!.on("data", () => {}); // keep draining
      return child;
    }
  }
  throw new Error(`gym serve ${only ?? config} exited before it was ready:\n${tail(log)}`);
}

// --- the systems ---------------------------------------------------------------------

interface System {
  key: SystemKey;
  /** The port the collector calls: its first connection there starts the clock. */
  entryPort: number;
  /** Server processes: name -> root pid (counted with its children). */
  servers: Record<string, number>;
  /** Pids counted as themselves only (NeMo Gym's `gym env start` process hosts the head server and parents the servers). */
  selfOnly: Set<string>;
  collector(concurrency: number, input: Paths, output: Paths): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  stop(): Promise<void>;
}

/** A file by its path on this machine and in NeMo Gym's chroot. */
interface Paths {
  host: string;
  chroot: string;
}

interface Work {
  hostDir: string;
  chrootDir: string;
  root: string;
  at(name: string): Paths;
}

function nemoGymPython(work: Work, args: string[]): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    cmd: "bash",
    args: [path.join(ROOT, "scripts/nemo-gym-python.sh"), "--cwd", work.chrootDir, ...args],
    env: { ...process.env, GYM_NEMO_GYM_ROOT: work.root },
  };
}

function nemoGymStartArgs(mockPort: number, headPort: number, perHost: number, work: Work): string[] {
  return [
    ...NEMO_GYM_CONFIGS.flatMap((c) => ["--config", c]),
    `+policy_base_url=http://127.0.0.1:${mockPort}/v1`,
    "+policy_api_key=none",
    "+policy_model_name=mock",
    `+uv_venv_dir=${work.chrootDir}/venvs`,
    "+skip_venv_if_present=true",
    `+head_server={host:127.0.0.1,port:${headPort}}`,
    ...(perHost > NEMO_GYM_PER_HOST ? [`+global_aiohttp_connector_limit_per_host=${perHost}`] : []),
  ];
}

function nemoGymCollectArgs(concurrency: number, input: string, output: string, headPort: number): string[] {
  return [
    "/opt/ng/bin/gym", "eval", "run", "--no-serve",
    "--agent", AGENT,
    "--input", input,
    "--output", output,
    "--concurrency", String(concurrency),
    "--no-health-check",
    "+route_failures_to_sidecar=true",
    `+head_server={host:127.0.0.1,port:${headPort}}`,
  ];
}

async function startNemoGym(mockPort: number, perHost: number, work: Work, log: string): Promise<System> {
  // Each server's venv (uv_venv_dir/<type>/<name>/.venv) is the release's own installation.
  for (const dir of ["resources_servers/example_single_tool_call", "responses_api_agents/simple_agent", "responses_api_models/openai_model", "environment_servers/legacy_agent"]) {
    const at = path.join(work.hostDir, "venvs", dir);
    fs.mkdirSync(at, { recursive: true });
    // A link into the chroot: it resolves there, not here (so lstat, not exists).
    const venv = path.join(at, ".venv");
    if (!fs.lstatSync(venv, { throwIfNoEntry: false })) fs.symlinkSync("/opt/ng", venv);
  }
  const headPort = await freePort();
  const run = nemoGymPython(work, ["/gym-mesh/bench/nemo_gym/env_start.py", ...nemoGymStartArgs(mockPort, headPort, perHost, work)]);
  const orchestrator = start(run.cmd, run.args, log, { env: run.env });
  nemoGymStarts.add(orchestrator);
  const deadline = Date.now() + 300_000;
  let ready = false;
  while (!ready) {
    if (exited(orchestrator)) throw new Error(`NeMo Gym's gym env start exited (${orchestrator.exitCode ?? orchestrator.signalCode}):\n${tail(log)}`);
    if (Date.now() > deadline) {
      await stop(orchestrator, "SIGINT");
      throw new Error(`NeMo Gym's servers were not ready within 300 s:\n${tail(log)}`);
    }
    await sleep(1_000);
    ready = await fetch(`http://127.0.0.1:${headPort}/healthz`).then((r) => r.ok, () => false);
  }
  const instances = (await (await fetch(`http://127.0.0.1:${headPort}/server_instances`)).json()) as {
    process_name: string;
    server_type: string;
    pid: number;
    port: number;
  }[];
  const entry = instances.find((i) => i.server_type === "environment_servers");
  if (!entry) throw new Error(`NeMo Gym started no environment server: ${JSON.stringify(instances)}`);
  const servers: Record<string, number> = { "gym env start (head server)": orchestrator.pid! };
  for (const i of instances) servers[i.process_name] = i.pid;
  for (const i of instances) for (const pid of processTree(i.pid)) nemoGymServerPids.add(pid);
  return {
    key: "nemo_gym",
    entryPort: entry.port,
    servers,
    selfOnly: new Set(["gym env start (head server)"]),
    collector: (concurrency, input, output) => nemoGymPython(work, nemoGymCollectArgs(concurrency, input.chroot, output.chroot, headPort)),
    // SIGINT: gym env start shuts its servers down on KeyboardInterrupt (SIGTERM would orphan them).
    stop: () => stop(orchestrator, "SIGINT", instances.flatMap((i) => processTree(i.pid))),
  };
}

const MESH_SERVICES = ["policy_model", "example_single_tool_call", AGENT, "rollout"] as const;

function meshConfig(mockPort: number, pool: number, inFlight: number, ports: Record<string, number>, grpcPorts: Record<string, number>, split: boolean): string {
  const addresses = split ? `addresses:\n${MESH_SERVICES.map((s) => `  ${s}: grpc://127.0.0.1:${grpcPorts[s]}`).join("\n")}\n` : "";
  const at = (s: string) => `    port: ${ports[s]}\n    grpc_port: ${grpcPorts[s]}\n`;
  return `instances:
  policy_model:
    kind: model
${at("policy_model")}    base_url: http://127.0.0.1:${mockPort}/v1
    api_key: none
    model: mock
    pool_connections: ${pool}
  example_single_tool_call:
    kind: resources
${at("example_single_tool_call")}    environment: example_single_tool_call
  ${AGENT}:
    kind: agent
${at(AGENT)}    agent: simple_agent
    model: policy_model
    resources: example_single_tool_call
    max_steps: 10
  rollout:
    kind: rollout
${at("rollout")}    default_agent: ${AGENT}
    max_in_flight: ${inFlight}
${addresses}`;
}

function meshCollector(rolloutGrpcPort: number, streams = 1) {
  return (concurrency: number, input: Paths, output: Paths) => ({
    cmd: process.execPath,
    args: [
      GYM, "collect", "--url", `grpc://127.0.0.1:${rolloutGrpcPort}`, "--agent", AGENT, "--input", input.host, "--output", output.host,
      "--concurrency", String(concurrency), "--fresh", ...(streams > 1 ? ["--streams", String(streams)] : []),
    ],
    env: { ...process.env, GYM_LOG: "error" },
  });
}

async function startMesh(key: "mesh_one" | "mesh_workers" | "mesh_split", mockPort: number, pool: number, inFlight: number, work: Work): Promise<System> {
  const ports = Object.fromEntries(await Promise.all(MESH_SERVICES.map(async (s) => [s, await freePort()] as const)));
  const grpcPorts = Object.fromEntries(await Promise.all(MESH_SERVICES.map(async (s) => [s, await freePort()] as const)));
  const split = key === "mesh_split";
  const config = path.join(work.hostDir, `${key}.yaml`);
  fs.writeFileSync(config, meshConfig(mockPort, pool, inFlight, ports, grpcPorts, split));
  const children: ChildProcess[] = [];
  const servers: Record<string, number> = {};
  try {
    if (split) {
      // Started together (each waits for nothing of the others at start); allSettled: none is left behind.
      const all = await Promise.allSettled(MESH_SERVICES.map((s) => gymServe(config, s, path.join(work.hostDir, `${key}-${s}.log`))));
      all.forEach((r, i) => {
        if (r.status === "fulfilled") {
          children.push(r.value);
          servers[MESH_SERVICES[i]!] = r.value.pid!;
        }
      });
      const failed = all.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    } else {
      const workers = key === "mesh_workers" ? WORKERS : 1;
      const child = await gymServe(config, undefined, path.join(work.hostDir, `${key}.log`), workers);
      children.push(child);
      servers[workers > 1 ? `gym serve --workers ${workers} (every instance, its workers)` : "gym serve (every instance)"] = child.pid!;
    }
  } catch (err) {
    await Promise.all(children.map((c) => stop(c)));
    throw err;
  }
  return {
    key,
    entryPort: grpcPorts.rollout!,
    servers,
    selfOnly: new Set(),
    collector: meshCollector(grpcPorts.rollout!, key === "mesh_workers" ? WORKERS : 1),
    stop: async () => {
      await Promise.all(children.map((c) => stop(c)));
    },
  };
}

// --- one run -------------------------------------------------------------------------------

interface RunResult {
  rolloutsPerS: number;
  /** CPU ms per rollout of each server process (with its children), the mock and the collector. */
  cpuMs: Record<string, number>;
  peakMb: Record<string, number>;
  mockCpuMs: number;
  collectorCpuMs: number;
  collectorPeakMb: number;
  written: number;
  failures: number;
  meanReward: number;
  /** Why the run is not a clean one, if it is not. */
  problem?: string;
}

/** Counts the lines of files that grow (and may be rewritten), reading only what is new. */
class LineCounter {
  private offset = 0;
  lines = 0;
  constructor(private readonly file: string) {}
  update(): number {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return this.lines;
    }
    if (size < this.offset) this.offset = this.lines = 0; // rewritten
    if (size === this.offset) return this.lines;
    const fd = fs.openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 64 << 20));
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      for (let i = 0; i < n; i++) if (buf[i] === 10) this.lines++;
      this.offset += n;
    } finally {
      fs.closeSync(fd);
    }
    return this.lines;
  }
}

function readResults(file: string): { written: number; rewardSum: number; rewarded: number } {
  let written = 0;
  let rewardSum = 0;
  let rewarded = 0;
  if (!fs.existsSync(file)) return { written, rewardSum, rewarded };
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    written++;
    const reward = (JSON.parse(line) as { reward?: unknown }).reward;
    if (typeof reward === "number") {
      rewardSum += reward;
      rewarded++;
    }
  }
  return { written, rewardSum, rewarded };
}

function failuresPath(output: string): string {
  return output.replace(/\.jsonl$/, "_failures.jsonl");
}

let runCounter = 0;

async function runOnce(system: System, mockPid: number, concurrency: number, input: Paths, rollouts: number, work: Work): Promise<RunResult> {
  const name = `${system.key}-c${concurrency}-${++runCounter}`;
  const output = work.at(`${name}.jsonl`);
  const log = path.join(work.hostDir, `${name}.log`);
  const groups: Record<string, number[]> = {};
  for (const [n, pid] of Object.entries(system.servers)) groups[n] = system.selfOnly.has(n) ? [pid] : processTree(pid);
  for (const pids of Object.values(groups)) for (const pid of pids) resetPeak(pid);
  resetPeak(mockPid);

  const spec = system.collector(concurrency, input, output);
  const collector = start(spec.cmd, spec.args, log, { env: spec.env });
  const counters = [new LineCounter(output.host), new LineCounter(failuresPath(output.host))];
  const snapshot = () => Object.fromEntries(Object.entries(groups).map(([n, pids]) => [n, groupStats(pids)]));
  let t0: number | undefined;
  let before: Record<string, ProcessStats | undefined> = {};
  let mockBefore: ProcessStats | undefined;
  let collectorBefore: ProcessStats | undefined;
  let collectorLast: ProcessStats | undefined;
  let t1: number | undefined;
  let problem: string | undefined;
  const deadline = Date.now() + 180_000 + rollouts * 100;
  for (;;) {
    const stats = groupStats([collector.pid!]);
    if (stats) collectorLast = stats;
    if (t0 === undefined && connectedTo(system.entryPort)) {
      t0 = performance.now();
      before = snapshot();
      mockBefore = groupStats([mockPid]);
      collectorBefore = collectorLast;
    }
    const done = counters.reduce((n, c) => n + c.update(), 0);
    if (done >= rollouts) {
      t1 = performance.now();
      break;
    }
    if (exited(collector)) {
      t1 = performance.now();
      problem = `the collector exited (${collector.exitCode ?? collector.signalCode}) after ${done} of ${rollouts} rollouts: ${tail(log, 5).replace(/\s+/g, " ").slice(-300)}`;
      break;
    }
    if (Date.now() > deadline) {
      t1 = performance.now();
      problem = `timed out after ${done} of ${rollouts} rollouts`;
      break;
    }
    await sleep(t0 === undefined ? 10 : 50);
  }
  const after = snapshot();
  const mockAfter = groupStats([mockPid]);
  const peakMb: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  for (const n of Object.keys(groups)) {
    cpuMs[n] = after[n] && before[n] ? (after[n]!.cpuMs - before[n]!.cpuMs) / rollouts : NaN;
    peakMb[n] = after[n]?.peakRssMb ?? NaN;
  }
  // The collector writes its summary (NeMo Gym: aggregate metrics) and exits.
  if (!(await waitExit(collector, 120_000))) {
    problem ??= "the collector did not exit within 120 s of its last rollout";
    await stop(collector);
  } else if (collector.exitCode !== 0 && !problem) {
    problem = `the collector exited with ${collector.exitCode ?? collector.signalCode}: ${tail(log, 5).replace(/\s+/g, " ").slice(-300)}`;
  }
  if (t0 === undefined) problem ??= `the collector never connected to port ${system.entryPort}`;
  const results = readResults(output.host);
  const failures = readResults(failuresPath(output.host)).written;
  return {
    rolloutsPerS: t0 !== undefined && t1 !== undefined ? (results.written + failures) / ((t1 - t0) / 1000) : NaN,
    cpuMs,
    peakMb,
    mockCpuMs: mockAfter && mockBefore ? (mockAfter.cpuMs - mockBefore.cpuMs) / rollouts : NaN,
    collectorCpuMs: collectorLast && collectorBefore ? (collectorLast.cpuMs - collectorBefore.cpuMs) / rollouts : NaN,
    collectorPeakMb: collectorLast?.peakRssMb ?? NaN,
    written: results.written,
    failures,
    meanReward: results.rewarded ? results.rewardSum / results.rewarded : NaN,
    problem,
  };
}

// --- the table ----------------------------------------------------------------------------------

interface Point {
  latencyS: number;
  concurrency: number;
  rollouts: number;
  runs: Record<SystemKey, RunResult[]>;
  /** A system that did not start for this latency, and why. */
  notStarted: Partial<Record<SystemKey, string>>;
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const maxOf = (v: number[]) => (v.some((x) => !Number.isNaN(x)) ? Math.max(...v.filter((x) => !Number.isNaN(x))) : NaN);

function perProcess(runs: RunResult[], pick: (r: RunResult) => Record<string, number>, agg: (v: number[]) => number, digits: number): string {
  const names = [...new Set(runs.flatMap((r) => Object.keys(pick(r))))];
  return names.map((n) => `${n} ${fmt(agg(runs.map((r) => pick(r)[n] ?? NaN)), digits)}`).join("; ");
}

/** Why a system's runs at a point do not match NeMo Gym's (written rollouts, mean reward), or undefined. */
function disagreement(point: Point, key: SystemKey): string | undefined {
  const why: string[] = [];
  const mine = point.runs[key];
  const theirs = point.runs.nemo_gym;
  if (point.notStarted[key]) return `did not start: ${point.notStarted[key]}`;
  mine.forEach((r, i) => {
    if (r.problem) why.push(`run ${i + 1}: ${r.problem}`);
    if (r.written !== point.rollouts) why.push(`run ${i + 1} wrote ${r.written} of ${point.rollouts} rollouts (${r.failures} failed)`);
    const ng = theirs[i];
    if (key !== "nemo_gym" && ng) {
      if (ng.written !== r.written) why.push(`run ${i + 1}: ${r.written} rollouts written, NeMo Gym ${ng.written}`);
      if (!(Math.abs(ng.meanReward - r.meanReward) < 1e-9)) why.push(`run ${i + 1}: mean reward ${fmt(r.meanReward, 4)}, NeMo Gym ${fmt(ng.meanReward, 4)}`);
    }
  });
  if (key !== "nemo_gym" && (point.notStarted.nemo_gym || theirs.length === 0)) why.push("NeMo Gym did not run, nothing to compare with");
  return why.length ? why.join("; ") : undefined;
}

function table(points: Point[], repeats: number): string {
  const head = [
    "model latency",
    "concurrency",
    "rollouts per run",
    "system",
    `rollouts/s (median of ${repeats})`,
    "/ NeMo Gym",
    "CPU ms per rollout: all servers",
    "CPU ms per rollout, per server process",
    "mock CPU ms per rollout",
    "collector CPU ms per rollout",
    "peak MB per process (max over runs)",
    "collector peak MB",
    "failures",
    "mean reward",
    "same rollouts and mean reward as NeMo Gym",
  ];
  const rows: string[][] = [];
  for (const p of points) {
    const ngRate = median(p.runs.nemo_gym.map((r) => r.rolloutsPerS));
    for (const key of SYSTEM_KEYS) {
      const runs = p.runs[key];
      const rate = median(runs.map((r) => r.rolloutsPerS));
      const total = median(runs.map((r) => Object.values(r.cpuMs).reduce((a, b) => a + b, 0)));
      const why = disagreement(p, key);
      rows.push([
        `${p.latencyS * 1000} ms`,
        String(p.concurrency),
        String(p.rollouts),
        SYSTEM_NAMES[key],
        fmt(rate),
        key === "nemo_gym" ? (runs.length ? "1.00" : "-") : fmt(rate / ngRate, 2),
        fmt(total, 2),
        perProcess(runs, (r) => r.cpuMs, median, 2) || "-",
        fmt(median(runs.map((r) => r.mockCpuMs)), 2),
        fmt(median(runs.map((r) => r.collectorCpuMs)), 2),
        perProcess(runs, (r) => r.peakMb, maxOf, 0) || "-",
        fmt(maxOf(runs.map((r) => r.collectorPeakMb)), 0),
        runs.map((r) => r.failures).join(", ") || "-",
        runs.map((r) => fmt(r.meanReward, 3)).join(", ") || "-",
        why ? `no: ${why}` : key === "nemo_gym" ? "(the reference)" : "yes",
      ]);
    }
  }
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

// --- main -------------------------------------------------------------------------------------------

function gymRunsFrom(): string {
  const info = path.join(ROOT, "dist/build-info.json");
  if (!fs.existsSync(info)) return "the TypeScript sources through tsx (no dist/: run npm run build)";
  let newest = 0;
  for (const dir of ["services", "gen"]) {
    for (const file of fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]) {
      if (file.endsWith(".ts") && !file.endsWith(".test.ts")) newest = Math.max(newest, fs.statSync(path.join(ROOT, dir, file)).mtimeMs);
    }
  }
  return fs.statSync(info).mtimeMs >= newest ? "the build in dist/" : "the TypeScript sources through tsx (dist/ is older than the sources: run npm run build)";
}

function parseOptions(): Options {
  const o = new Command("bench:nemo-gym")
    .option("--concurrency <list>", "comma-separated", "64,512,4096")
    .option("--latency <list>", "mock model latency in seconds, comma-separated", "0,0.2")
    .option("--repeats <n>", "runs of each system at each point", "3")
    .option("--rollouts <n>", `rollouts per run (default: max(${MIN_ROLLOUTS}, 2 x concurrency); --smoke: 40)`)
    .option("--smoke", "one tiny point (concurrency 8, latency 0, 40 rollouts), one repeat; for CI", false)
    .option("--out <file>", "results file (default bench/vs-nemo-gym.md; --smoke: a temporary file)")
    .option("--keep", "keep the work folder (logs, configs, outputs)", false)
    .option("--workers <n>", "workers of the gym serve --workers shape (collected with --streams n)", String(os.availableParallelism()))
    .parse()
    .opts<{ concurrency: string; latency: string; repeats: string; rollouts?: string; smoke: boolean; out?: string; keep: boolean; workers: string }>();
  WORKERS = Math.max(2, Number(o.workers));
  const list = (s: string) => s.split(",").map(Number);
  if (o.smoke) {
    return { concurrency: [8], latencyS: [0], repeats: 1, rollouts: o.rollouts ? Number(o.rollouts) : 40, smoke: true, keep: o.keep, workers: WORKERS, out: o.out ?? path.join(os.tmpdir(), "vs-nemo-gym-smoke.md") };
  }
  return {
    concurrency: list(o.concurrency).sort((a, b) => a - b),
    latencyS: list(o.latency),
    repeats: Number(o.repeats),
    rollouts: o.rollouts ? Number(o.rollouts) : undefined,
    smoke: false,
    keep: o.keep,
    workers: WORKERS,
    out: o.out ?? path.join(ROOT, "bench/vs-nemo-gym.md"),
  };
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const say = (m: string) => process.stderr.write(`bench:nemo-gym: ${m}\n`);
  const root = execFileSync("bash", [path.join(ROOT, "scripts/nemo-gym-env.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const chrootDir = `/var/tmp/gym-bench-${process.pid}`;
  const hostDir = path.join(root, chrootDir);
  fs.rmSync(hostDir, { recursive: true, force: true });
  fs.mkdirSync(hostDir, { recursive: true });
  const work: Work = { root, hostDir, chrootDir, at: (n) => ({ host: path.join(hostDir, n), chroot: `${chrootDir}/${n}` }) };
  const python = (code: string) =>
    execFileSync("bash", [path.join(ROOT, "scripts/nemo-gym-python.sh"), "-c", code], { encoding: "utf8", env: { ...process.env, GYM_NEMO_GYM_ROOT: root } }).trim();
  const pythonVersion = python("import sys; print(sys.version.split()[0])");
  const nemoGymVersion = python("import importlib.metadata as m; print(m.version('nemo-gym'))");
  const loadBefore = os.loadavg();
  const maxConcurrency = Math.max(...opts.concurrency);
  const perHost = Math.max(NEMO_GYM_PER_HOST, maxConcurrency);
  const pool = Math.max(MESH_POOL, maxConcurrency);
  const inFlight = Math.max(MESH_IN_FLIGHT, maxConcurrency);
  const points: Point[] = [];
  let failedToStart = false;
  const warmup = opts.smoke ? { concurrency: 8, rollouts: 16 } : { concurrency: 64, rollouts: 1000 };
  say(`NeMo Gym ${nemoGymVersion} (Python ${pythonVersion}) in ${root}; gym-mesh runs ${gymRunsFrom()}; work folder ${hostDir}`);

  try {
    for (const latencyS of opts.latencyS) {
      const mockPort = await freePort();
      const mockConfig = path.join(hostDir, `mock-${latencyS}.yaml`);
      fs.writeFileSync(mockConfig, `instances:\n  mock_openai:\n    kind: mock_model\n    port: ${mockPort}\n    latency_s: ${latencyS}\n`);
      const mock = await gymServe(mockConfig, undefined, path.join(hostDir, `mock-${latencyS}.log`));
      const systems: Partial<Record<SystemKey, System>> = {};
      const notStarted: Partial<Record<SystemKey, string>> = {};
      try {
        for (const key of SYSTEM_KEYS) {
          say(`${latencyS * 1000} ms: starting ${SYSTEM_NAMES[key]}...`);
          const t = performance.now();
          try {
            systems[key] =
              key === "nemo_gym"
                ? await startNemoGym(mockPort, perHost, work, path.join(hostDir, `nemo-gym-${latencyS}.log`))
                : await startMesh(key, mockPort, pool, inFlight, work);
            say(`  ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
          } catch (err) {
            failedToStart = true;
            notStarted[key] = (err as Error).message.split("\n")[0]!;
            say(`  FAILED: ${(err as Error).message}`);
          }
        }
        // Warm up each (JIT, connection pools, imports); not measured.
        const warmInput = work.at(`in-${warmup.rollouts}.jsonl`);
        fs.writeFileSync(warmInput.host, Array.from({ length: warmup.rollouts }, (_, i) => ROWS[i % ROWS.length] + "\n").join(""));
        for (const system of Object.values(systems)) {
          const r = await runOnce(system, mock.pid!, warmup.concurrency, warmInput, warmup.rollouts, work);
          if (r.problem || r.written !== warmup.rollouts) {
            failedToStart = true;
            notStarted[system.key] = `its warm-up run failed: ${r.problem ?? `${r.written} of ${warmup.rollouts} written`}`;
            say(`  ${SYSTEM_NAMES[system.key]}: ${notStarted[system.key]}`);
          }
        }
        for (const concurrency of opts.concurrency) {
          const rollouts = opts.rollouts ?? Math.max(MIN_ROLLOUTS, 2 * concurrency);
          const input = work.at(`in-${rollouts}.jsonl`);
          if (!fs.existsSync(input.host)) fs.writeFileSync(input.host, Array.from({ length: rollouts }, (_, i) => ROWS[i % ROWS.length] + "\n").join(""));
          const point: Point = { latencyS, concurrency, rollouts, runs: { nemo_gym: [], mesh_one: [], mesh_workers: [], mesh_split: [] }, notStarted };
          points.push(point);
          const order: SystemKey[] = [...SYSTEM_KEYS];
          for (let rep = 0; rep < opts.repeats; rep++) {
            // Interleaved: every repeat runs each system once, starting with a different one.
            for (let k = 0; k < order.length; k++) {
              const key = order[(rep + k) % order.length]!;
              const system = systems[key];
              if (!system || notStarted[key]) continue;
              say(`${latencyS * 1000} ms, concurrency ${concurrency}, ${rollouts} rollouts, repeat ${rep + 1}/${opts.repeats}: ${SYSTEM_NAMES[key]}...`);
              // A system idle while the others ran is slower at first: a short run first, not measured.
              const warm = await runOnce(system, mock.pid!, concurrency, warmInput, warmup.rollouts, work);
              if (warm.problem) say(`  its run before the measured one: ${warm.problem}`);
              const r = await runOnce(system, mock.pid!, concurrency, input, rollouts, work);
              point.runs[key].push(r);
              const cpu = Object.values(r.cpuMs).reduce((a, b) => a + b, 0);
              say(`  ${fmt(r.rolloutsPerS)} rollouts/s, servers ${fmt(cpu, 2)} CPU ms per rollout, ${r.written} written, ${r.failures} failed, mean reward ${fmt(r.meanReward, 3)}${r.problem ? `; ${r.problem}` : ""}`);
            }
          }
        }
      } finally {
        for (const system of Object.values(systems)) await system.stop();
        await stop(mock);
      }
    }
  } finally {
    for (const child of started) if (!exited(child)) child.kill("SIGKILL");
    if (!opts.keep) fs.rmSync(hostDir, { recursive: true, force: true });
  }

  const loadAfter = os.loadavg();
  const cpu = os.cpus();
  const meshRaised = [
    ...(pool > MESH_POOL ? [`the model's \`pool_connections: ${pool}\` (default ${MESH_POOL})`] : []),
    ...(inFlight > MESH_IN_FLIGHT ? [`the rollout service's \`max_in_flight: ${inFlight}\` (default ${MESH_IN_FLIGHT})`] : []),
  ];
  const ngStart = `bash scripts/nemo-gym-python.sh bench/nemo_gym/env_start.py ${nemoGymStartArgs(0, 0, perHost, work).join(" ")}`
    .replace("127.0.0.1:0/v1", "127.0.0.1:MOCK_PORT/v1")
    .replace("port:0}", "port:HEAD_PORT}")
    .replaceAll(chrootDir, "WORK");
  const ngCollect = `bash scripts/nemo-gym-python.sh ${nemoGymCollectArgs(0, "WORK/in.jsonl", "WORK/out.jsonl", 0).join(" ")}`
    .replace("--concurrency 0", "--concurrency C")
    .replace("port:0}", "port:HEAD_PORT}");
  const text = `# NeMo Gym ${nemoGymVersion} against gym-mesh

${opts.smoke ? "**Smoke run** (one tiny point, one repeat: it checks that both systems run and agree; its figures mean nothing).\n\n" : ""}Machine: ${cpu[0]?.model.trim()}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}; Node ${process.version}; NeMo Gym ${nemoGymVersion} on Python ${pythonVersion} (Debian trixie chroot of scripts/nemo-gym-env.sh). Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(", ")}; after: ${loadAfter.map((x) => x.toFixed(2)).join(", ")}. Figures taken while anything else runs on the machine are disturbed: take them on a quiet machine.

Every rollout is NeMo Gym's example_single_tool_call (gym-mesh's copy of its data/example.jsonl, ${ROWS.length} rows, repeated to the rollouts of a run; the same file for every system): a model call, a call of get_weather, a model call, verify. Every system calls one shared gym-mesh mock model (\`kind: mock_model\`, the OpenAI HTTP API, scripted: one tool turn, then the answer; \`latency_s\` the point's model latency). At each point the systems run in rotation (each repeat starts with the next one) ${opts.repeats} time(s); the table has medians.

${table(points, opts.repeats)}

## How it is measured

- **rollouts/s**: rollouts written (and failed) / the time from the collector's first connection to the system (NeMo Gym: its environment server; gym-mesh: the rollout service's grpc port; seen in /proc/net/tcp every 10 ms) to the last rollout's line in the output files (polled every 50 ms). The collectors' start-up (Python imports, reading the config) and what they do after the last rollout (NeMo Gym: aggregate metrics) are not in it.
- **CPU ms per rollout**: utime + stime from /proc/PID/stat over that same span, divided by the rollouts of the run, per server process with its children (NeMo Gym: each server \`gym env start\` started, and the \`gym env start\` process itself, which hosts the head server, counted alone; gym-mesh: each \`gym serve\` process). "All servers" is their sum; the shared mock and the collector are separate columns.
- **Peak memory**: VmHWM from /proc/PID/status at the end of each run, reset before the run (\`echo 5 > /proc/PID/clear_refs\`), so it is that run's peak (the sum over a server's processes); the table has the largest over the repeats.
- **Same rollouts and mean reward**: every run must write all its rollouts, and each gym-mesh run as many as NeMo Gym's run of the same repeat with the same mean reward (of the \`reward\` of the output lines); otherwise the row says why, and the command exits 1.
- Before the points, each system runs ${warmup.rollouts} rollouts at concurrency ${warmup.concurrency} (warm-up: imports, JIT, connections), not measured; and before each measured run, the same ${warmup.rollouts} rollouts at the run's concurrency, not measured either: on this machine a system that sat idle while the others ran is slower at first (without it, a gym-mesh run right after a NeMo Gym run took up to 60% more CPU per rollout than the next one; the cause is not pinned down: V8 giving its heap back when idle, cold caches).
- **Rollouts per run** (unless \`--rollouts\` says otherwise): at least 3,000 (2 x the concurrency above that), so that the start of a run (every rollout starting at once, connection pools filling) and its end (the last rollouts draining) weigh little, as in a long training run; at concurrency 512, NeMo Gym 0.7.0 measured 75 rollouts/s in runs of 1,024 and 95 in runs of 3,000 on this machine, and a run of two waves is mostly ramp for gym-mesh too.

## NeMo Gym: what ran, with which settings, and why

- Servers: NeMo Gym's own \`gym env start\` on the release's own configs (${NEMO_GYM_CONFIGS.join(", ")}): the example_single_tool_call resources server, its simple_agent, the legacy_agent environment server that fronts the agent (0.7.0's collection sends every row to the environment server of its agent), and the openai_model model server pointed at the mock; one uvicorn worker each (the default), every one its own process:
  \`${ngStart}\`
  bench/nemo_gym/env_start.py is \`gym env start\` with two changes: **Ray is switched off** (gym env start starts a Ray cluster, and the legacy_agent server, which does not declare \`ray_enabled\`, starts another in its process; nothing on this path uses Ray, and its daemons would take CPU from the run; bench/nemo_gym/server.py runs each app.py with \`ray_enabled\` false, as a future release defaults), and **no per-server uv venv is built**: \`uv_venv_dir\` holds, for each server, a \`.venv\` that is the release's own installation (/opt/ng of the chroot, which has every server's requirements) and \`skip_venv_if_present=true\` makes NeMo Gym's own launch command use it.
- Collection: NeMo Gym's own rollout collection, \`gym eval run --no-serve\` (0.7.0's \`ng_collect_rollouts\`), against those servers through the head server:
  \`${ngCollect}\`
  \`--concurrency\` (num_samples_in_parallel) is the point's; \`+route_failures_to_sidecar=true\` records a failed rollout in \`<stem>_failures.jsonl\` and goes on, as \`gym collect\` does (NeMo Gym's default ends the run at the first failure); \`--cwd WORK\` (not shown) is the run's folder in the chroot; \`--no-health-check\` skips the post-run quality report (after the last rollout, so outside the measured span anyway).
- ${perHost > NEMO_GYM_PER_HOST ? `\`global_aiohttp_connector_limit_per_host=${perHost}\` (default ${NEMO_GYM_PER_HOST}): raised to the largest concurrency so that NeMo Gym's connection pools do not cap the concurrency (gym-mesh's pools are raised alike).` : `Connection pools: NeMo Gym's defaults (${NEMO_GYM_PER_HOST} per host), above every concurrency here.`}

## gym-mesh: what ran

- One process: \`node bin/gym.js serve -c one.yaml\` with the model (pointed at the mock), the example_single_tool_call resources, the simple_agent and the rollout service; the instances call each other in-process.
- ${WORKERS} workers: the same one-process mesh in ${WORKERS} processes sharing its ports, \`node bin/gym.js serve -c one.yaml --workers ${WORKERS}\` (node:cluster; the primary hands each connection to a worker in turn), collected with \`--streams ${WORKERS}\` (that many connections, each its own stream) so that every worker gets rollouts; a rollout stays in the worker its stream reached.
- One process per service: the same instances, each \`node bin/gym.js serve -c split.yaml --only NAME\`, calling each other on their grpc-js ports.
- Collection: \`node bin/gym.js collect --url grpc://127.0.0.1:ROLLOUT_GRPC_PORT --agent ${AGENT} --input WORK/in.jsonl --output WORK/out.jsonl --concurrency C --fresh\`.
- Settings: ${meshRaised.length ? `defaults, but ${meshRaised.join(" and ")}, so that no pool caps the largest concurrency (NeMo Gym's per-host budget is raised the same way when below it)` : `defaults (the model's pool_connections ${MESH_POOL}, the rollout service's max_in_flight ${MESH_IN_FLIGHT}: at or above every concurrency here)`}. gym-mesh ran ${gymRunsFrom()}.
`;
  fs.writeFileSync(opts.out, text);
  process.stdout.write(text);
  say(`wrote ${opts.out}`);

  const disagreements = points.flatMap((p) => SYSTEM_KEYS.map((k) => disagreement(p, k)).filter(Boolean));
  if (failedToStart || disagreements.length > 0) {
    say(`FAILED: ${failedToStart ? "a system failed to start; " : ""}${disagreements.length} row(s) where the systems do not agree (see the table)`);
    return 1;
  }
  return 0;
}

process.exitCode = await main().catch((err) => {
  process.stderr.write(`bench:nemo-gym: ${(err as Error).stack ?? err}\n`);
  for (const child of started) if (!exited(child)) child.kill("SIGKILL");
  return 1;
});
