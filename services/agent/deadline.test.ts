// A rollout's deadline flows through every call it makes: each model, tool,
// verify and step call gets the time left, not the whole budget again. Real
// servers on loopback ports (mock model behind a model instance, a resources
// server, agents, a rollout service), with the services wrapped to record the
// `ctx.timeoutMs()` each call saw. Every assertion is an inequality that a
// slow machine only makes truer (the time left only shrinks).
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { CollectRequestSchema, RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { clientFor } from "../mesh/clients.js";
import { setQuiet } from "../mesh/log.js";
import { hosted, serve, type RunningServer } from "../mesh/serve.js";
import { createMockModel } from "../mock-model/mock-model.js";
import { createModelService } from "../model/model-service.js";
import { createUpstreamBackend } from "../model/upstream-backends.js";
import { taskFromJson } from "../openai/responses-json.js";
import { defineEnvironment, defineTool, verifyByStepOnly } from "../resources/environment.js";
import { createResourcesHost, createResourcesService } from "../resources/host.js";
import { createRolloutService } from "../rollout/rollout-service.js";
import { AGENT_KIND_NAMES, AGENT_KINDS, findAgentKind, type AgentKind } from "./agent-kinds.js";
import { createAgentService } from "./agent-service.js";
import { Deadline } from "../mesh/deadline.js";
import { runSimpleAgent } from "./simple-agent.js";

const TOOL_MS = 300;
const MODEL_MS = 300;
/** Rounding of whole milliseconds between the caller's clock and the callee's. */
const SLACK = 5;

/** What each call saw as its time left, in call order. */
type Seen = { call: string; timeoutMs: number | undefined };
let seen: Seen[] = [];
const record = (call: string, ctx: HandlerContext) => seen.push({ call, timeoutMs: ctx.timeoutMs() });
const times = (call: string) => seen.filter((s) => s.call === call).map((s) => s.timeoutMs!);

let toolMs = TOOL_MS;
let modelDelayMs = 0;

const slowTools = defineEnvironment<undefined>({
  name: "slow_tools",
  description: "One tool that takes a while; the verifier gives 1.",
  tools: [
    defineTool({
      name: "slow_lookup",
      description: "Looks the weather up, slowly.",
      args: z.object({ city: z.string() }),
      run: async () => {
        await sleep(toolMs);
        return "sunny";
      },
    }),
  ],
  verify: () => ({ reward: 1 }),
});

const turnTaking = defineEnvironment<{ turns: number }>({
  name: "turn_taking",
  description: "Two turns, reward 0.5 each.",
  tools: [],
  createState: () => ({ turns: 0 }),
  verify: verifyByStepOnly("turn_taking"),
  reset: () => ({ observation: "Say something." }),
  step: ({ state }) => ({ reward: 0.5, terminated: ++state.turns >= 2, truncated: false, observation: "Again." }),
});

/** A ResourcesService that records each call's time left, then delegates. */
function recordingResources(inner: ServiceImpl<typeof ResourcesService>): ServiceImpl<typeof ResourcesService> {
  return {
    ...inner,
    seedSession: (req, ctx) => (record("seed", ctx), inner.seedSession(req, ctx)),
    callTool: (req, ctx) => (record("tool", ctx), inner.callTool(req, ctx)),
    verify: (req, ctx) => (record("verify", ctx), inner.verify(req, ctx)),
  };
}

/** An EpisodeService that records each call's time left, then delegates. */
function recordingEpisodes(inner: ServiceImpl<typeof EpisodeService>): ServiceImpl<typeof EpisodeService> {
  return {
    ...inner,
    reset: (req, ctx) => (record("reset", ctx), inner.reset(req, ctx)),
    step: (req, ctx) => (record("step", ctx), inner.step(req, ctx)),
  };
}

const servers: RunningServer[] = [];
const closers: (() => Promise<void>)[] = [];
let modelUrl: string;
let toolsUrl: string;
let gymUrl: string;

async function start(name: string, services: Parameters<typeof serve>[0]["services"], fallback?: Parameters<typeof serve>[0]["fallback"]) {
  const server = await serve({ name, services, fallback, drainTimeoutMs: 100 });
  servers.push(server);
  return server;
}

function agentDeps(kind: AgentKind, resourcesUrl: string) {
  return {
    name: `${kind}_under_test`,
    kind,
    model: clientFor(ModelService, modelUrl),
    resources: clientFor(ResourcesService, resourcesUrl),
    episodes: clientFor(EpisodeService, resourcesUrl),
    maxSteps: 10,
  };
}

async function startAgent(kind: AgentKind, resourcesUrl = toolsUrl) {
  const server = await start(kind, [hosted(AgentService, createAgentService(agentDeps(kind, resourcesUrl)))]);
  return clientFor(AgentService, server.url);
}

const tools = [
  {
    type: "function",
    name: "slow_lookup",
    description: "Looks the weather up, slowly.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
    strict: true,
  },
];
const toolTask = taskFromJson({ responses_create_params: { input: "What is the weather in Paris?", tools } });
const plainTask = taskFromJson({ responses_create_params: { input: "Hello?" } });

beforeAll(async () => {
  setQuiet(true);
  const mock = createMockModel();
  const mockServer = await start("mock", [], mock.handler);
  const backend = createUpstreamBackend({
    name: "policy",
    baseUrl: `${mockServer.url}/v1`,
    apiKey: "none",
    model: "mock",
    api: "responses",
    timeoutMs: 60_000,
    poolConnections: 16,
    retry: { maxAttempts: 1, baseMs: 1, maxMs: 1 },
    returnTokenIds: false,
    thinkTags: false,
  });
  closers.push(() => backend.close());
  const model = createModelService(backend);
  const recordingModel: ServiceImpl<typeof ModelService> = {
    ...model,
    async createResponse(req, ctx) {
      record("model", ctx);
      if (modelDelayMs > 0) await sleep(modelDelayMs);
      return model.createResponse(req, ctx);
    },
  };
  modelUrl = (await start("policy", [hosted(ModelService, recordingModel)])).url;
  toolsUrl = (await start("slow_tools", [hosted(ResourcesService, recordingResources(createResourcesService(slowTools)))])).url;
  gymUrl = (await start("turn_taking", [hosted(EpisodeService, recordingEpisodes(createResourcesHost(turnTaking).episodes))])).url;
});

afterAll(async () => {
  for (const server of servers.reverse()) await server.close();
  for (const close of closers) await close();
});

beforeEach(() => {
  seen = [];
  toolMs = TOOL_MS;
  modelDelayMs = 0;
});

describe("Deadline", () => {
  it("gives each call the time left, at least 1 ms, and none once passed", () => {
    let now = 1000;
    const signal = new AbortController().signal;
    const deadline = new Deadline({ timeoutMs: 500, signal, name: "agent", now: () => now });
    expect(deadline.call("a model call")).toEqual({ signal, timeoutMs: 500 });
    now += 199.5;
    expect(deadline.call("a tool call")).toEqual({ signal, timeoutMs: 300 });
    now = 1499.9;
    expect(deadline.call("verify").timeoutMs).toBe(1);
    now = 1500;
    expect(() => deadline.call("verify")).toThrow(expect.objectContaining({ code: Code.DeadlineExceeded, rawMessage: "agent: the rollout's deadline passed before verify" }));
  });

  it("without a timeout, calls carry only the signal", () => {
    expect(new Deadline({}).call("x")).toEqual({ signal: undefined });
  });

  it("a rollout whose time is already up fails with DEADLINE_EXCEEDED without making a call", async () => {
    const err = await runSimpleAgent(agentDeps("simple_agent", toolsUrl), toolTask, "late", { timeoutMs: 0 }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.DeadlineExceeded);
    expect(seen).toEqual([]);
  });
});

describe("a rollout's deadline", () => {
  it("simple_agent: a slow tool leaves the model and verify calls only the time left", async () => {
    const agent = await startAgent("simple_agent");
    const budget = 2000;
    const { rollout } = await agent.run({ input: { case: "task", value: toolTask }, rolloutId: "slow-tool" }, { timeoutMs: budget });
    expect(rollout!.verdict!.reward).toBe(1);
    expect(seen.map((s) => s.call)).toEqual(["seed", "model", "tool", "model", "verify"]);

    // Every call had a deadline, and none later than the one before it.
    for (const [i, s] of seen.entries()) {
      expect(s.timeoutMs).toBeGreaterThan(0);
      expect(s.timeoutMs).toBeLessThanOrEqual(i === 0 ? budget : seen[i - 1]!.timeoutMs! + SLACK);
    }
    const [firstModel, secondModel] = times("model");
    const [tool] = times("tool");
    const [verify] = times("verify");
    // The model's second call comes after the tool's sleep: that much less time left.
    expect(secondModel!).toBeLessThanOrEqual(tool! - TOOL_MS + SLACK);
    expect(secondModel!).toBeLessThan(firstModel!);
    // Verify gets what is left, not the whole budget again.
    expect(verify!).toBeLessThanOrEqual(budget - TOOL_MS + SLACK);
  });

  it.each(["non_executing_simple_agent", "tool_simulation_agent"] as const)("%s: a slow model leaves verify only the time left", async (kind) => {
    modelDelayMs = MODEL_MS;
    const agent = await startAgent(kind);
    const budget = 2000;
    const { rollout } = await agent.run({ input: { case: "task", value: toolTask }, rolloutId: `slow-model-${kind}` }, { timeoutMs: budget });
    expect(rollout!.verdict!.reward).toBe(1);
    const [model] = times("model");
    const [verify] = times("verify");
    expect(model!).toBeLessThanOrEqual(budget);
    expect(verify!).toBeGreaterThan(0);
    expect(verify!).toBeLessThanOrEqual(model! - MODEL_MS + SLACK);
  });

  it("gymnasium_agent: each Step gets the time left after the model's turn", async () => {
    modelDelayMs = MODEL_MS;
    const agent = await startAgent("gymnasium_agent", gymUrl);
    const budget = 3000;
    const { rollout } = await agent.run({ input: { case: "task", value: plainTask }, rolloutId: "slow-turns" }, { timeoutMs: budget });
    expect(rollout!.verdict!.reward).toBe(1);
    expect(seen.map((s) => s.call)).toEqual(["reset", "model", "step", "model", "step"]);
    const [reset] = times("reset");
    const [model1, model2] = times("model");
    const [step1, step2] = times("step");
    expect(reset!).toBeLessThanOrEqual(budget);
    expect(step1!).toBeLessThanOrEqual(model1! - MODEL_MS + SLACK);
    expect(model2!).toBeLessThanOrEqual(step1! + SLACK);
    expect(step2!).toBeLessThanOrEqual(model2! - MODEL_MS + SLACK);
    expect(step2!).toBeGreaterThan(0);
  });

  /** One task through a RolloutService in front of a simple_agent; its results. */
  async function collectOne(rolloutTimeoutMs: number, streamTimeoutMs?: number) {
    const agent = await startAgent("simple_agent");
    const rollouts = await start("rollout", [
      hosted(RolloutService, createRolloutService({ agents: new Map([["simple_agent", agent]]), maxInFlight: 4, rolloutTimeoutMs })),
    ]);
    async function* one() {
      yield create(CollectRequestSchema, { taskId: "t", input: { case: "task", value: toolTask }, agent: "simple_agent", numRepeats: 1 });
    }
    const results = [];
    for await (const result of clientFor(RolloutService, rollouts.url).collect(one(), { timeoutMs: streamTimeoutMs })) results.push(result);
    return results;
  }

  it("a rollout whose deadline passes during a tool call fails with DEADLINE_EXCEEDED, not a reward (RolloutService's rollout timeout)", async () => {
    toolMs = 3000;
    const rolloutTimeoutMs = 1000;
    const results = await collectOne(rolloutTimeoutMs);
    expect(results).toHaveLength(1);
    expect(results[0]!.outcome).toMatchObject({ case: "error", value: { code: Code.DeadlineExceeded } });
    // The agent got the rollout timeout as its call's deadline and passed on
    // what was left; nothing was called after the tool, verify least of all.
    expect(seen.map((s) => s.call)).toEqual(["seed", "model", "tool"]);
    for (const s of seen) expect(s.timeoutMs).toBeLessThanOrEqual(rolloutTimeoutMs);
  });

  it("the Collect stream's own deadline bounds its rollouts when it comes first", async () => {
    const results = await collectOne(3_600_000, 10_000);
    expect(results[0]!.outcome).toMatchObject({ case: "rollout", value: { verdict: { reward: 1 } } });
    for (const s of seen) expect(s.timeoutMs).toBeLessThanOrEqual(10_000);
  });
});

describe("agent kinds", () => {
  it("one list: names, one-line summaries, and what each drives", () => {
    expect(AGENT_KIND_NAMES).toEqual(["simple_agent", "non_executing_simple_agent", "tool_simulation_agent", "gymnasium_agent"]);
    for (const kind of AGENT_KINDS) {
      expect(kind.summary).not.toMatch(/\n/);
      expect(typeof kind.run).toBe("function");
    }
    expect(AGENT_KINDS.filter((k) => k.drives === "steps").map((k) => k.name)).toEqual(["gymnasium_agent"]);
    expect(findAgentKind("simple_agent").run).toBe(runSimpleAgent);
    expect(() => findAgentKind("fancy_agent")).toThrow(/unknown agent kind "fancy_agent" \(kinds: simple_agent, /);
  });
});
