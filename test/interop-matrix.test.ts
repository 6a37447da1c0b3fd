// The interop matrix: every client language and protocol calls Run and
// Collect of one running mesh, on both ports, with raw NeMo Gym rows and with
// typed tasks, and gets identical rewards and identical NeMo Gym output lines
// for the same tasks. The mesh is config/grpo.yaml (seeded mock: rewards
// differ between tasks), so equal rewards mean something; without token ids,
// which would spell out the mock's random call ids. Prints the matrix as a table.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { create, toJson, type JsonObject } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { CollectRequestSchema, RolloutService, type CollectRequest } from "../gen/gymmesh/v1/rollout_pb.js";
import { TaskSchema } from "../gen/gymmesh/v1/task_pb.js";
import { transportFor } from "../services/mesh/clients.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import { BUF, EXAMPLE_DATA, ROOT, readJsonl } from "../testing/helpers.js";

type Port = "http" | "grpc";
interface Result {
  index: number;
  repeat: number;
  reward?: number;
  line?: string;
  error?: string;
}
interface Cell {
  client: string;
  rpc: "Run" | "Collect";
  port: Port;
  mode: "raw" | "typed";
  results: Result[];
  error?: string;
}

const ROWS = readJsonl(EXAMPLE_DATA);
const LINES = ROWS.map((r) => JSON.stringify(r));
const TASKS = ROWS.map((r) => toJson(TaskSchema, taskFromJson(r)) as JsonObject);
const REPEATS = 2;

let mesh: ChildProcess;
const urls = { agent: {} as Record<Port, string>, rollout: {} as Record<Port, string> };

beforeAll(async () => {
  mesh = spawn(process.execPath, [path.join(ROOT, "bin/gym.js"), "serve", "-c", path.join(ROOT, "config/grpo.yaml")], {
    cwd: ROOT,
    env: { ...process.env, GYM_LOG: "off", POLICY_RETURN_TOKEN_IDS: "false" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("gym serve did not get ready within 60 s")), 60_000);
    readline.createInterface({ input: mesh.stdout! }).on("line", (line) => {
      const [name, , http, grpc] = line.split(/\s{2,}/);
      if (name === "example_single_tool_call_simple_agent") Object.assign(urls.agent, { http, grpc });
      if (name === "rollout") Object.assign(urls.rollout, { http, grpc });
      if (line === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}, 90_000);

afterAll(() => {
  mesh?.kill("SIGTERM");
});

// --- TypeScript: Connect protocol, gRPC through connect-node, grpc-js -------

async function tsCells(client: string, port: Port, transportOf: (url: string) => Transport): Promise<Cell[]> {
  const agent = createClient(AgentService, transportOf(urls.agent[port]));
  const rollout = createClient(RolloutService, transportOf(urls.rollout[port]));
  const cells: Cell[] = [];
  for (const mode of ["raw", "typed"] as const) {
    const results: Result[] = [];
    for (const [index, line] of LINES.entries()) {
      const input = mode === "raw" ? { case: "rowJson" as const, value: line } : { case: "task" as const, value: taskFromJson(ROWS[index]) };
      const res = await agent.run({ input, wantOutputLine: true }, { timeoutMs: 60_000 });
      results.push({ index, repeat: 0, reward: res.rollout?.verdict?.reward, line: res.outputLineJson });
    }
    cells.push({ client, rpc: "Run", port, mode, results });
  }
  for (const mode of ["raw", "typed"] as const) {
    async function* requests(): AsyncGenerator<CollectRequest> {
      for (const [index, line] of LINES.entries()) {
        const input = mode === "raw" ? { case: "rowJson" as const, value: line } : { case: "task" as const, value: taskFromJson(ROWS[index]) };
        yield create(CollectRequestSchema, { taskId: String(index), input, numRepeats: REPEATS, wantOutputLines: mode === "raw", taskIndex: BigInt(index) });
      }
    }
    const results: Result[] = [];
    for await (const r of rollout.collect(requests(), { timeoutMs: 60_000 })) {
      const res: Result = { index: Number(r.taskId), repeat: r.repeatIndex };
      if (r.outcome.case === "outputLineJson") Object.assign(res, { line: r.outcome.value, reward: JSON.parse(r.outcome.value).reward });
      else if (r.outcome.case === "rollout") res.reward = r.outcome.value.verdict?.reward;
      else res.error = r.outcome.value?.message ?? "no outcome";
      results.push(res);
    }
    cells.push({ client, rpc: "Collect", port, mode, results });
  }
  return cells;
}

// --- other processes: Python (grpcio, grpc.aio), Go, buf curl --------------

function exec(cmd: string, args: string[], input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin!.end(input);
  });
}

const spec = () => JSON.stringify({ agent: urls.agent, rollout: urls.rollout, rows: LINES, tasks: TASKS });

async function pythonCells(): Promise<Cell[]> {
  const python = (await exec("bash", ["scripts/python-env.sh"], "", 300_000)).trim();
  await exec(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", "clients/python"], "", 300_000);
  return JSON.parse(await exec(python, ["test/interop/python_cells.py"], spec(), 120_000)) as Cell[];
}

async function goCells(): Promise<Cell[]> {
  // A cold build of grpc-go takes a minute or two here.
  const out = await exec("bash", ["-c", "source clients/go/goenv.sh && cd clients/go && go run ./cmd/gymmesh-interop"], spec(), 300_000);
  return (JSON.parse(out) as Omit<Cell, "client">[]).map((c) => ({ client: "go grpc-go", ...c }));
}

/** buf curl, by reflection: Run per row, and Collect as a bidi stream of JSON messages on stdin. */
async function bufCells(protocol: "grpc" | "connect", port: Port): Promise<Cell[]> {
  // The grpc-js port speaks plain gRPC over h2c: buf curl names it http://.
  const curl = (url: string, body: string) =>
    exec(BUF, ["curl", "--http2-prior-knowledge", "--protocol", protocol, "-d", "@-", url.replace(/^grpc:/, "http:")], body, 60_000);
  const cells: Cell[] = [];
  for (const mode of ["raw", "typed"] as const) {
    const results: Result[] = [];
    for (const [index, line] of LINES.entries()) {
      const body = mode === "raw" ? { rowJson: line, wantOutputLine: true } : { task: TASKS[index], wantOutputLine: true };
      const res = JSON.parse(await curl(`${urls.agent[port]}/gymmesh.v1.AgentService/Run`, JSON.stringify(body)));
      results.push({ index, repeat: 0, reward: res.rollout?.verdict?.reward ?? 0, line: res.outputLineJson });
    }
    cells.push({ client: `buf curl (${protocol})`, rpc: "Run", port, mode, results });
  }
  for (const mode of ["raw", "typed"] as const) {
    const messages = LINES.map((line, index) =>
      JSON.stringify({
        taskId: String(index),
        numRepeats: REPEATS,
        ...(mode === "raw" ? { rowJson: line, wantOutputLines: true, taskIndex: String(index) } : { task: TASKS[index] }),
      }),
    );
    const out = await curl(`${urls.rollout[port]}/gymmesh.v1.RolloutService/Collect`, messages.join("\n"));
    const results = parseJsonStream(out).map((r): Result => {
      const res: Result = { index: Number(r.taskId), repeat: Number(r.repeatIndex ?? 0) };
      if (typeof r.outputLineJson === "string") Object.assign(res, { line: r.outputLineJson, reward: JSON.parse(r.outputLineJson).reward });
      else if (r.rollout) res.reward = (r.rollout as { verdict?: { reward?: number } }).verdict?.reward ?? 0;
      else res.error = JSON.stringify(r.error);
      return res;
    });
    cells.push({ client: `buf curl (${protocol})`, rpc: "Collect", port, mode, results });
  }
  return cells;
}

/** buf curl prints one pretty-printed JSON object per message. */
function parseJsonStream(text: string): JsonObject[] {
  const out: JsonObject[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

// --- comparing ---------------------------------------------------------------

/** A line without what differs between two runs of the same task: ids, times. */
function normalize(line: string): unknown {
  const ids = new Map<string, string>();
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "_ng_timings_ms" || k === "created_at") continue;
      if ((k === "id" || k === "call_id") && typeof x === "string") {
        if (!ids.has(x)) ids.set(x, `${k}#${ids.size}`);
        out[k] = ids.get(x);
      } else out[k] = walk(x);
    }
    return out;
  };
  return walk(JSON.parse(line));
}

const key = (r: Result) => `${r.index}/${r.repeat}`;

describe("interop matrix", () => {
  it(
    "Python, Go, TypeScript and buf curl get identical rewards and NeMo Gym output lines on both ports, typed and raw",
    async () => {
      const cells: Cell[] = [];
      cells.push(...(await tsCells("ts connect (Connect protocol)", "http", (url) => createConnectTransport({ baseUrl: url, httpVersion: "2" }))));
      for (const port of ["http", "grpc"] as const) {
        cells.push(...(await tsCells("ts connect-node (gRPC)", port, (url) => createGrpcTransport({ baseUrl: url.replace(/^grpc:/, "http:") }))));
      }
      cells.push(...(await tsCells("ts grpc-js", "grpc", (url) => transportFor(url))));
      cells.push(...(await bufCells("connect", "http")));
      for (const port of ["http", "grpc"] as const) cells.push(...(await bufCells("grpc", port)));
      cells.push(...(await pythonCells()));
      cells.push(...(await goCells()));

      // Every cell answered every task (and repeat), with no error.
      for (const cell of cells) {
        const label = `${cell.client} ${cell.rpc} ${cell.port} ${cell.mode}`;
        expect(cell.error, label).toBeUndefined();
        expect(cell.results.filter((r) => r.error), label).toEqual([]);
        expect(new Set(cell.results.map(key)).size, label).toBe(ROWS.length * (cell.rpc === "Run" ? 1 : REPEATS));
      }
      // Identical rewards per task everywhere (the seeded mock gives different tasks different rewards).
      const reference = new Map(cells[0]!.results.map((r) => [r.index, r.reward]));
      expect(new Set(reference.values()).size, "the mesh should give these tasks different rewards").toBeGreaterThan(1);
      for (const cell of cells) for (const r of cell.results) expect(r.reward, `${cell.client} ${cell.rpc} ${cell.port} ${cell.mode} ${key(r)}`).toBe(reference.get(r.index));
      // Identical output lines per (task, repeat) for every cell that asked for lines (Run always; Collect raw).
      for (const rpc of ["Run", "Collect"] as const) {
        const withLines = cells.filter((c) => c.rpc === rpc && c.results.every((r) => r.line));
        expect(withLines.length, rpc).toBeGreaterThanOrEqual(rpc === "Run" ? cells.filter((c) => c.rpc === "Run").length : 6);
        const first = new Map(withLines[0]!.results.map((r) => [key(r), normalize(r.line!)]));
        for (const cell of withLines) {
          for (const r of cell.results) {
            expect(normalize(r.line!), `${cell.client} ${rpc} ${cell.port} ${cell.mode} ${key(r)}`).toEqual(first.get(key(r)));
          }
        }
      }
      console.log(table(cells));
    },
    600_000,
  );
});

function table(cells: Cell[]): string {
  const clients = [...new Set(cells.map((c) => `${c.client} @ ${c.port}`))];
  const columns = ["Run raw", "Run typed", "Collect raw", "Collect typed"];
  const rows = clients.map((name) => {
    const mark = (col: string) => {
      const [rpc, mode] = col.split(" ");
      const cell = cells.find((c) => `${c.client} @ ${c.port}` === name && c.rpc === rpc && c.mode === mode);
      if (!cell) return "-";
      const rewards = cell.results.map((r) => r.reward ?? 0);
      return `ok ${cell.results.length} (mean ${(rewards.reduce((a, b) => a + b, 0) / rewards.length).toFixed(2)})${cell.results.every((r) => r.line) ? ", lines" : ""}`;
    };
    return `| ${name} | ${columns.map(mark).join(" | ")} |`;
  });
  return [`| client @ port | ${columns.join(" | ")} |`, `| --- | ${columns.map(() => "---").join(" | ")} |`, ...rows].join("\n");
}
