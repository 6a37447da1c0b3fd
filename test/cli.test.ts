// The `gym` command as a user runs it: real subprocesses, real files.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import { EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-cli-"));

describe("gym collect", () => {
  it("writes NeMo Gym rollout lines and prints count, mean reward and time", async () => {
    const out = path.join(tmp(), "rollouts.jsonl");
    const res = await run(process.execPath, [GYM, "collect", "--agent", "example_single_tool_call_simple_agent", "--input", EXAMPLE_DATA, "--output", out, "--num-repeats", "2", "--limit", "3", "--concurrency", "4"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^6 rollouts, mean reward 1\.0000, 0 failed, [\d.]+ s$/m);
    const lines = readJsonl(out);
    expect(lines).toHaveLength(6);
    const input = readJsonl(EXAMPLE_DATA);
    for (const line of lines) {
      const i = line._ng_task_index as number;
      expect(i).toBeLessThan(3);
      expect(line.responses_create_params).toEqual(input[i]!.responses_create_params);
      expect(line.reward).toBe(1);
      expect(line.agent_ref).toEqual({ name: "example_single_tool_call_simple_agent" });
      expect((line.response as { output: { type: string }[] }).output.map((o) => o.type)).toEqual(["function_call", "function_call_output", "message"]);
    }
    const pairs = lines.map((l) => `${l._ng_task_index}/${l._ng_rollout_index}`).sort();
    expect(pairs).toEqual(["0/0", "0/1", "1/0", "1/1", "2/0", "2/1"]);
  });

  it("records bad rows and failed rollouts with their line and error, and goes on", async () => {
    const dir = tmp();
    const input = path.join(dir, "tasks.jsonl");
    const good = fs.readFileSync(EXAMPLE_DATA, "utf8").split("\n")[0];
    const routedAway = JSON.stringify({ ...JSON.parse(good!), agent_ref: { name: "missing_agent" } });
    fs.writeFileSync(input, [good, "{not json", '{"expected_answer": "C"}', routedAway, good].join("\n") + "\n");
    const out = path.join(dir, "rollouts.jsonl");
    const res = await run(process.execPath, [GYM, "collect", "-a", "example_single_tool_call_simple_agent", "-i", input, "-o", out]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^2 rollouts, mean reward 1\.0000, 3 failed/m);
    expect(readJsonl(out).map((l) => l._ng_task_index).sort()).toEqual([0, 4]);
    const failures = readJsonl(path.join(dir, "rollouts_failures.jsonl"));
    const byIndex = Object.fromEntries(failures.map((f) => [f._ng_task_index as number, f]));
    expect(byIndex[1]).toMatchObject({ line: 2, error: { code: "invalid_argument", message: expect.stringContaining(":2: not valid JSON") } });
    expect(byIndex[2]).toMatchObject({ line: 3, expected_answer: "C", error: { code: "invalid_argument", message: expect.stringContaining("responses_create_params") } });
    expect(byIndex[3]).toMatchObject({ agent_ref: { name: "missing_agent" }, error: { code: "not_found" } });
  });

  it("fails at start on a bad config, naming the file and the field", async () => {
    const config = path.join(tmp(), "mesh.yaml");
    fs.writeFileSync(config, "instances:\n  a:\n    kind: agent\n    model: m\n");
    const res = await run(process.execPath, [GYM, "collect", "-c", config, "-i", EXAMPLE_DATA, "-o", path.join(tmp(), "o.jsonl")]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${config}: instances.a.resources:`);
  });
});

/** Starts `gym serve` with these arguments; resolves with its instance URLs once ready. */
async function startServe(args: string[]) {
  const child = spawn(process.execPath, [GYM, "serve", ...args], { cwd: ROOT, env: { ...process.env, GYM_LOG: "off" } });
  const urls = new Map<string, string>();
  /** The grpc-js port's grpc:// URL, or the main URL of instances without one. */
  const rpcUrls = new Map<string, string>();
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  for await (const line of readline.createInterface({ input: child.stdout })) {
    if (line === "ready") break;
    lines.push(line);
    const [name, , url, grpcUrl] = line.split(/\s{2,}/);
    urls.set(name!, url!);
    rpcUrls.set(name!, grpcUrl ?? url!);
  }
  if (urls.size === 0) throw new Error(`gym serve did not start: ${stderr}`);
  return { child, urls, rpcUrls, lines };
}

describe("gym serve", () => {
  it("prints one line per instance and exits 0 on SIGTERM", async () => {
    const { child, urls, lines } = await startServe([]);
    expect(lines.find((l) => l.startsWith("example_single_tool_call_simple_agent"))).toMatch(
      /^example_single_tool_call_simple_agent\s+gymmesh\.v1\.AgentService\s+http:\/\/127\.0\.0\.1:\d+\s+grpc:\/\/127\.0\.0\.1:\d+$/,
    );
    expect([...urls.keys()].sort()).toEqual(["example_single_tool_call", "example_single_tool_call_simple_agent", "mock_openai", "policy_model", "rollout"]);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("drains a rollout in flight on SIGTERM, then exits 0", async () => {
    // A slow model (500 ms a call), so the rollout is surely in flight.
    const config = path.join(tmp(), "slow.yaml");
    const base = fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8");
    fs.writeFileSync(config, base.replace("    kind: mock_model\n", "    kind: mock_model\n    latency_s: 0.5\n"));
    const { child, urls } = await startServe(["-c", config]);
    const agent = clientFor(AgentService, urls.get("example_single_tool_call_simple_agent")!);
    const inFlight = agent.run({ input: { case: "task", value: taskFromJson(readJsonl(EXAMPLE_DATA)[0]) } });
    // Wait until its first model call is done: the second one is under way.
    const modelCalls = async () => {
      const text = await (await fetch(`${urls.get("policy_model")}/metrics`)).text();
      return Number(text.match(/gym_rpc_requests_total\{[^}]*method="CreateResponse"[^}]*\} (\d+)/)?.[1] ?? 0);
    };
    while ((await modelCalls()) < 1) await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect((await inFlight).rollout?.verdict?.reward).toBe(1);
    expect(await exited).toBe(0);
  });

  it("runs instances in separate processes that find each other by address (grpc:// peers)", async () => {
    const dir = tmp();
    const config = (addresses: Map<string, string>) => {
      const file = path.join(dir, `mesh-${addresses.size}.yaml`);
      const lines = [...addresses].map(([name, url]) => `  ${name}: ${url}`);
      fs.writeFileSync(
        file,
        fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8") + (lines.length ? `addresses:\n${lines.join("\n")}\n` : ""),
      );
      return file;
    };
    // Backends in one process, the agent and rollout service in another, as two workloads.
    const backends = await startServe(["-c", config(new Map()), "--only", "mock_openai,policy_model,example_single_tool_call"]);
    // The agent calls the model and resources on their grpc-js ports; the model reaches the mock's HTTP API.
    const front = await startServe(["-c", config(backends.rpcUrls), "--only", "example_single_tool_call_simple_agent,rollout"]);
    expect(fs.readFileSync(path.join(dir, "mesh-3.yaml"), "utf8")).toMatch(/policy_model: grpc:\/\/127\.0\.0\.1:\d+/);
    expect([...front.urls.keys()].sort()).toEqual(["example_single_tool_call_simple_agent", "rollout"]);
    const out = path.join(dir, "rollouts.jsonl");
    const res = await run(process.execPath, [GYM, "collect", "--url", front.rpcUrls.get("rollout")!, "-a", "example_single_tool_call_simple_agent", "-i", EXAMPLE_DATA, "-o", out]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^5 rollouts, mean reward 1\.0000/m);
    for (const { child } of [front, backends]) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  it("names the missing address of an instance started elsewhere", async () => {
    const res = await run(process.execPath, [GYM, "serve", "-c", path.join(ROOT, "config/default.yaml"), "--only", "example_single_tool_call_simple_agent"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/instance "(policy_model|example_single_tool_call)" is not started here: give its URL under addresses\./);
  });
});
