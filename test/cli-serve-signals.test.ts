// `gym serve` and signals: no server outlives `npx gym serve` after SIGTERM to
// npm, and a second SIGTERM exits at once instead of waiting for the drain.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import { EXAMPLE_DATA, ROOT, readJsonl } from "../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-serve-"));

/** Reads `gym serve`'s stdout up to "ready": instance name -> URL. */
async function readyUrls(child: ChildProcess): Promise<Map<string, string>> {
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const urls = new Map<string, string>();
  for await (const line of readline.createInterface({ input: child.stdout! })) {
    if (line === "ready") return urls;
    const [name, , url] = line.split(/\s{2,}/);
    urls.set(name!, url!);
  }
  throw new Error(`gym serve did not get ready: ${stderr}`);
}

/** Whether a process runs (a zombie has exited). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The processes below `root` (from /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

const accepts = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe.skipIf(!fs.existsSync("/proc/self/stat"))("gym serve and signals", () => {
  it("SIGTERM to `npx gym serve` (npm) leaves no server behind", async () => {
    const npx = spawn("npx", ["--no-install", "gym", "serve", "--only", "mock_openai"], {
      cwd: ROOT,
      env: { ...process.env, GYM_LOG: "off" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exitedNpx = new Promise((resolve) => npx.once("exit", resolve));
    const url = (await readyUrls(npx)).get("mock_openai")!;
    expect(await accepts(url)).toBe(true);
    const below = descendants(npx.pid!);
    const servers = below.filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("serve");
      } catch {
        return false;
      }
    });
    expect(servers.length).toBeGreaterThan(0);

    npx.kill("SIGTERM");
    await exitedNpx;
    const deadline = Date.now() + 10_000;
    while (below.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const left = below.filter(running);
    for (const pid of left) process.kill(pid, "SIGKILL"); // no orphan from this test, whatever happens
    expect(left, "processes still running after npm got SIGTERM").toEqual([]);
    expect(await accepts(url)).toBe(false);
  }, 60_000);

  it("a second SIGTERM exits at once (143) while the first drains a slow rollout", async () => {
    const config = path.join(tmp(), "slow.yaml");
    const base = fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8");
    fs.writeFileSync(config, base.replace("    kind: mock_model\n", "    kind: mock_model\n    latency_s: 5\n"));
    const child = spawn(process.execPath, [GYM, "serve", "-c", config], { cwd: ROOT, env: { ...process.env, GYM_LOG: "off" }, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const urls = await readyUrls(child);
    const agent = clientFor(AgentService, urls.get("example_single_tool_call_simple_agent")!);
    const inFlight = agent.run({ input: { case: "task", value: taskFromJson(readJsonl(EXAMPLE_DATA)[0]) } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500)); // the model call is under way
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode, "the first SIGTERM drains (the rollout takes 10 s)").toBeNull();
    const second = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(Date.now() - second).toBeLessThan(2_000);
    await inFlight;
  }, 60_000);
});
