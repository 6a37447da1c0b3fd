// RolloutService.Collect under a slow reader and under cancellation.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CollectRequestSchema, CollectResponseSchema, RolloutService } from "../gen/gymmesh/v1/rollout_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { loadConfig } from "../services/app/config.js";
import { setQuiet } from "../services/mesh/log.js";
import { taskFromJson } from "../services/openai/responses-json.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";
import { EXAMPLE_DATA, readJsonl } from "../testing/helpers.js";

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
      for (let i = 0; i < total; i++) yield create(CollectRequestSchema, { taskId: `t${i}`, input: { case: "task", value: task } });
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
    // The caller stops reading. Rollouts stop being started once the unread
    // results fill what the stream may buffer: each finished rollout holds
    // its slot until its result is written, and HTTP/2 flow control admits
    // only a few windows of unread bytes (client and server stream buffers).
    const started = async () => (await agentRunsDone()) - before;
    let last = -1;
    let now = await started();
    for (let i = 0; i < 30 && now !== last; i++) {
      await new Promise((r) => setTimeout(r, 300));
      [last, now] = [now, await started()];
    }
    expect(now, "rollouts kept starting while nobody read").toBe(last);
    const buffered = Math.ceil((4 * 65_535) / resultBytes);
    expect(now).toBeLessThanOrEqual(read + MAX_IN_FLIGHT + buffered);
    // And it stays there.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await started()).toBe(now);
    abort.abort();
    await stream.return?.();
  });

  it("delivers everything once the caller reads", async () => {
    const task = taskFromJson(readJsonl(EXAMPLE_DATA)[1]);
    async function* tasks() {
      for (let i = 0; i < 50; i++) yield create(CollectRequestSchema, { taskId: `t${i}`, input: { case: "task", value: task }, numRepeats: 2 });
    }
    const ids = new Set<string>();
    for await (const r of clientFor(RolloutService, mesh.url("rollout")).collect(tasks())) {
      expect(r.outcome.case).toBe("rollout");
      ids.add(`${r.taskId}/${r.repeatIndex}`);
    }
    expect(ids.size).toBe(100);
  });
});

describe("Collect deadlines and cancellation", () => {
  let slow: RunningMesh;
  beforeAll(async () => {
    const config = loadConfig(undefined, {});
    const mock = config.instances.mock_openai;
    const rollout = config.instances.rollout;
    if (mock?.kind !== "mock_model" || rollout?.kind !== "rollout") throw new Error("the default config has a mock model and a rollout instance");
    mock.latency_s = 5; // every model call outlives the deadlines below
    rollout.rollout_timeout_s = 0.5;
    slow = await startMesh(config);
  });
  afterAll(async () => {
    await slow?.close();
  });

  /** Model calls that ended, by code, from the model instance's /metrics. */
  async function modelCalls(): Promise<Record<string, number>> {
    const text = await (await fetch(`${slow.url("policy_model")}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/gym_rpc_requests_total\{[^}]*method="CreateResponse",code="(\w+)"[^}]*\} (\d+)/g)) out[m[1]!] = Number(m[2]);
    return out;
  }

  async function gauge(instance: string, name: string): Promise<number> {
    const text = await (await fetch(`${slow.url(instance)}/metrics`)).text();
    return Number(text.match(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, "m"))?.[1] ?? NaN);
  }

  it("fails a rollout past its deadline, as a result, and ends its model call", async () => {
    const task = taskFromJson(readJsonl(EXAMPLE_DATA)[0]);
    async function* tasks() {
      yield create(CollectRequestSchema, { taskId: "slow", input: { case: "task", value: task } });
    }
    const results = [];
    for await (const r of clientFor(RolloutService, slow.url("rollout")).collect(tasks())) results.push(r);
    expect(results).toHaveLength(1);
    expect(results[0]!.outcome).toMatchObject({ case: "error", value: { code: Code.DeadlineExceeded } });
    // The deadline travelled down: the model call was ended with the rollout
    // (cut by the caller: canceled), long before the model answered.
    await expect.poll(async () => {
      const calls = await modelCalls();
      return { ended: (calls.canceled ?? 0) + (calls.deadline_exceeded ?? 0), answered: calls.ok ?? 0 };
    }, { timeout: 2_000 }).toEqual({ ended: 1, answered: 0 });
  });

  it("cancels the rollouts of a cancelled stream down to their model calls", async () => {
    const before = (await modelCalls()).canceled ?? 0;
    const task = taskFromJson(readJsonl(EXAMPLE_DATA)[0]);
    const abort = new AbortController();
    async function* tasks() {
      for (let i = 0; i < 3; i++) yield create(CollectRequestSchema, { taskId: `t${i}`, input: { case: "task", value: task } });
      await new Promise(() => {}); // keep the stream open
    }
    const stream = clientFor(RolloutService, slow.url("rollout")).collect(tasks(), { signal: abort.signal, timeoutMs: 0 });
    const drained = (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    // Three rollouts under way: each server's /metrics shows them.
    const gauges = async () => ({
      rollout: await gauge("rollout", "gym_rollouts_in_flight"),
      agent: await gauge("example_single_tool_call_simple_agent", "gym_rollouts_in_flight"),
      sessions: await gauge("example_single_tool_call", "gym_sessions_open"),
    });
    await expect.poll(gauges, { timeout: 2_000 }).toEqual({ rollout: 3, agent: 3, sessions: 3 });
    // The trainer goes away.
    abort.abort();
    await drained;
    await expect.poll(async () => ((await modelCalls()).canceled ?? 0) - before, { timeout: 2_000 }).toBe(3);
    // Failed rollouts close their sessions too.
    await expect.poll(gauges, { timeout: 2_000 }).toEqual({ rollout: 0, agent: 0, sessions: 0 });
  });
});
