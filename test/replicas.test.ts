// A resources instance run as three replicas behind one address (a YAML
// list of their grpc:// ports, as for pods of one Deployment): an agent's
// rollouts spread over all of them, every session's calls stay on the
// replica that seeded it, and when a replica goes away mid-session the
// rollout fails that try with UNAVAILABLE and the rollout service runs it
// again, once, on another replica. Each replica is its own server (its own
// /metrics), all in this process, on loopback ports.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { CollectRequestSchema, RolloutService, type CollectResponse } from "../gen/gymmesh/v1/rollout_pb.js";
import { loadConfig } from "../services/app/config.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";
import { clientFor } from "../services/mesh/clients.js";
import { setQuiet } from "../services/mesh/log.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import { EXAMPLE_DATA, readJsonl } from "../testing/helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-replicas-"));
const RESOURCES = "weather";
const AGENT = "weather_agent";
const row = readJsonl(EXAMPLE_DATA)[0]!;

interface Replica {
  mesh: RunningMesh;
  /** Its main port (for /metrics). */
  url: string;
  grpcUrl: string;
  closed: boolean;
}

let replicas: Replica[] = [];
let front: RunningMesh;

function write(name: string, yaml: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const resourcesYaml = `  ${RESOURCES}:
    kind: resources
    environment: example_single_tool_call
`;

beforeAll(async () => {
  setQuiet(true);
  replicas = await Promise.all(
    [1, 2, 3].map(async (n) => {
      const mesh = await startMesh(loadConfig(write(`replica-${n}`, `instances:\n${resourcesYaml}`), {}));
      const server = mesh.instances[0]!.server;
      return { mesh, url: server.url, grpcUrl: server.grpcUrl!, closed: false };
    }),
  );
  // The front: model, agent and rollout service here; the resources instance at its replicas' addresses.
  const config = loadConfig(
    write(
      "front",
      `instances:
  mock_openai:
    kind: mock_model
    latency_s: 0.3
  policy_model:
    kind: model
    base_url: mock_openai
    model: mock
${resourcesYaml}  ${AGENT}:
    kind: agent
    model: policy_model
    resources: ${RESOURCES}
  rollout:
    kind: rollout
    default_agent: ${AGENT}
    max_attempts: 3
    retry_base_s: 0.05
addresses:
  ${RESOURCES}:
${replicas.map((r) => `    - ${r.grpcUrl}`).join("\n")}
`,
    ),
    {},
  );
  expect(config.addresses?.[RESOURCES]).toBe(`grpc://${replicas.map((r) => r.grpcUrl.slice("grpc://".length)).join(",")}`);
  front = await startMesh(config, { only: ["mock_openai", "policy_model", AGENT, "rollout"] });
}, 60_000);

afterAll(async () => {
  await front?.close();
  for (const r of replicas) if (!r.closed) await r.mesh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A replica's answered calls of a ResourcesService method, by code. */
async function calls(replica: Replica, method: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  const pattern = new RegExp(`gym_rpc_requests_total\\{service="gymmesh\\.v1\\.ResourcesService",method="${method}",code="([a-z_]+)"[^}]*\\} (\\d+)`, "g");
  for (const m of text.matchAll(pattern)) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
  return counts;
}

const ok = async (replica: Replica, method: string) => (await calls(replica, method)).ok ?? 0;
const failed = async (replica: Replica) => {
  let n = 0;
  for (const method of ["SeedSession", "CallTool", "Verify", "CloseSession"]) {
    for (const [code, count] of Object.entries(await calls(replica, method))) if (code !== "ok") n += count;
  }
  return n;
};

async function sessionsOpen(replica: Replica): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  return Number(/^gym_sessions_open\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe("a resources instance as three replicas behind one address", () => {
  it("spreads an agent's rollouts over every replica, keeps each session on its replica, and scores as usual", async () => {
    const agent = clientFor(AgentService, front.url(AGENT));
    const task = taskFromJson(row);
    const rollouts = [];
    for (let batch = 0; batch < 3; batch++) {
      rollouts.push(...(await Promise.all(Array.from({ length: 10 }, () => agent.run({ input: { case: "task", value: task } })))));
    }
    expect(rollouts.map((r) => r.rollout?.verdict?.reward)).toEqual(Array(30).fill(1));

    const seeds = await Promise.all(replicas.map((r) => ok(r, "SeedSession")));
    expect(seeds.reduce((a, b) => a + b)).toBe(30);
    // Round-robin: about 10 each.
    for (const n of seeds) expect(n).toBeGreaterThanOrEqual(4);
    // Every session's tool call, verification and close went to the replica that made it (a session
    // unknown to a replica would be ABORTED there), and nothing failed anywhere.
    for (const [i, replica] of replicas.entries()) {
      expect(await ok(replica, "CallTool")).toBe(seeds[i]);
      expect(await ok(replica, "Verify")).toBe(seeds[i]);
      await expect.poll(() => ok(replica, "CloseSession"), { timeout: 5_000 }).toBe(seeds[i]);
      expect(await failed(replica)).toBe(0);
    }
  });

  it("a replica gone mid-session: that try fails with UNAVAILABLE and the rollout service runs it again on another replica, once", async () => {
    const before = await Promise.all(replicas.map(async (r) => ({ seeds: await ok(r, "SeedSession"), tools: await ok(r, "CallTool"), verified: await ok(r, "Verify") })));
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    async function* requests() {
      yield create(CollectRequestSchema, { taskId: "t0", input: { case: "rowJson", value: JSON.stringify(row) }, numRepeats: 1, agent: AGENT });
      await done;
    }
    const results: CollectResponse[] = [];
    const collecting = (async () => {
      for await (const response of clientFor(RolloutService, front.url("rollout")).collect(requests())) {
        results.push(response);
        answered();
      }
    })();

    // The replica that seeded the session is stopped while the model thinks (0.3 s a call).
    let gone: Replica | undefined;
    await expect
      .poll(
        async () => {
          for (const r of replicas) if (!r.closed && (await sessionsOpen(r)) > 0) gone = r;
          return gone !== undefined;
        },
        { timeout: 10_000, interval: 5 },
      )
      .toBe(true);
    gone!.closed = true;
    await gone!.mesh.close();
    await collecting;

    expect(results).toHaveLength(1);
    const rollout = results[0]!.outcome;
    expect(rollout.case).toBe("rollout");
    if (rollout.case !== "rollout") return;
    expect(rollout.value.verdict?.reward).toBe(1);
    expect(rollout.value.attempts).toBe(2);
    // The first try failed with UNAVAILABLE (the pinned tool call), not a wrong answer or a lost session.
    const agentMetrics = await (await fetch(`${front.url(AGENT)}/metrics`)).text();
    expect(agentMetrics).toMatch(/gym_rpc_requests_total\{service="gymmesh\.v1\.AgentService",method="Run",code="unavailable"[^}]*\} 1$/m);
    expect(agentMetrics).not.toMatch(/method="Run",code="(aborted|not_found|internal)"/);
    // The second try: one session on one of the replicas left, all its calls there.
    const left = replicas.filter((r) => r !== gone);
    const after = await Promise.all(left.map(async (r) => ({ seeds: await ok(r, "SeedSession"), tools: await ok(r, "CallTool"), verified: await ok(r, "Verify") })));
    const delta = after.map((a, i) => {
      const b = before[replicas.indexOf(left[i]!)]!;
      return { seeds: a.seeds - b.seeds, tools: a.tools - b.tools, verified: a.verified - b.verified };
    });
    expect(delta.reduce((n, d) => n + d.seeds, 0)).toBe(1);
    const second = delta.find((d) => d.seeds === 1)!;
    expect(second).toEqual({ seeds: 1, tools: 1, verified: 1 });
    for (const r of left) expect(await failed(r)).toBe(0);
  });
});
