// RolloutService.Collect under a slow reader and under cancellation.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CollectRequestSchema, CollectResponseSchema, RolloutService } from "../gen/gym/v1/rollout_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { loadConfig } from "../services/mesh/config.js";
import { setQuiet } from "../services/mesh/log.js";
import { taskFromJson } from "../services/mesh/responses-json.js";
import { startMesh, type RunningMesh } from "../services/mesh/start.js";
import { EXAMPLE_DATA, readJsonl } from "./helpers.js";

const MAX_IN_FLIGHT = 8;
let mesh: RunningMesh;

beforeAll(async () => {
  setQuiet(true);
  const config = loadConfig(undefined, {});
  const rollout = config.instances.rollout;
  if (rollout?.kind !== "rollout") throw new Error("the default config has a rollout instance");
  rollout.max_in_flight = MAX_IN_FLIGHT;
  mesh = await startMesh(config);
});
afterAll(async () => {
  await mesh?.close();
});

/** Agent runs finished so far, from the agent's own /metrics. */
async function agentRunsDone(): Promise<number> {
  const text = await (await fetch(`${mesh.url("example_single_tool_call_simple_agent")}/metrics`)).text();
  const m = text.match(/gym_rpc_requests_total\{[^}]*method="Run"[^}]*\} (\d+)/g) ?? [];
  return m.reduce((n, line) => n + Number(line.split(" ").at(-1)), 0);
}

describe("Collect flow control", () => {
  it("stops starting rollouts while the caller does not read", async () => {
    const before = await agentRunsDone();
    const task = taskFromJson(readJsonl(EXAMPLE_DATA)[0]);
    const total = 2000;
    async function* tasks() {
      for (let i = 0; i < total; i++) yield create(CollectRequestSchema, { taskId: `t${i}`, task });
    }
    const abort = new AbortController();
    const stream = clientFor(RolloutService, mesh.url("rollout")).collect(tasks(), { signal: abort.signal })[Symbol.asyncIterator]();
    let read = 0;
    let resultBytes = Infinity;
    for (; read < 5; read++) {
      const { value } = await stream.next();
      resultBytes = Math.min(resultBytes, toBinary(CollectResponseSchema, value!).length);
      await new Promise((r) => setTimeout(r, 200)); // a slow trainer
    }
    await new Promise((r) => setTimeout(r, 500));
    const started = (await agentRunsDone()) - before;
    // A finished rollout holds its slot until its result is written to the
    // stream, and HTTP/2 flow control lets the stream buffer only one window
    // (64 KiB by default) that the caller has not read.
    const window = Math.ceil(65_535 / resultBytes);
    expect(started).toBeLessThanOrEqual(read + MAX_IN_FLIGHT + window);
    expect(started).toBeGreaterThanOrEqual(read);
    abort.abort();
    await stream.return?.();
  });

  it("delivers everything once the caller reads", async () => {
    const task = taskFromJson(readJsonl(EXAMPLE_DATA)[1]);
    async function* tasks() {
      for (let i = 0; i < 50; i++) yield create(CollectRequestSchema, { taskId: `t${i}`, task, numRepeats: 2 });
    }
    const ids = new Set<string>();
    for await (const r of clientFor(RolloutService, mesh.url("rollout")).collect(tasks())) {
      expect(r.outcome.case).toBe("rollout");
      ids.add(`${r.taskId}/${r.repeatIndex}`);
    }
    expect(ids.size).toBe(100);
  });
});
