// Traces (OpenTelemetry): off by default (no trace id in the output lines);
// on, one trace per rollout across collector -> rollout -> agent -> model ->
// resources, with the W3C context carried over real ports (grpc-js and
// connect, unary and streaming) and in-process, and the span names and
// attributes of the GenAI conventions. Every instance here is its own server
// in this process, so one in-memory exporter sees all their spans.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { context, propagation, trace, type Attributes } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { RolloutService } from "../gen/gymmesh/v1/rollout_pb.js";
import { loadConfig, type MeshConfig } from "../services/app/config.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";
import { collectFile } from "../services/collect/collector.js";
import { clientFor } from "../services/mesh/clients.js";
import { setQuiet } from "../services/mesh/log.js";
import { EXAMPLE_DATA, readJsonl, ROOT } from "../testing/helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-traces-"));
const CONFIG = `${ROOT}config/replay.yaml`;
const AGENT = "example_single_tool_call_simple_agent";
const RESOURCES = "example_single_tool_call";
const row = readJsonl(EXAMPLE_DATA)[0]!;

setQuiet(true);
const base: MeshConfig = loadConfig(CONFIG, {});

async function collect(client: ReturnType<typeof clientFor<typeof RolloutService>>, name: string) {
  const output = path.join(dir, `${name}.jsonl`);
  const summary = await collectFile({ client, input: EXAMPLE_DATA, output, limit: 1, numRepeats: 2, fresh: true });
  expect(summary.failures).toBe(0);
  return readJsonl(output);
}

describe("tracing off (no SDK registered)", () => {
  it("writes no trace id into the output lines", async () => {
    const mesh = await startMesh(base);
    try {
      const rollout = mesh.instances.find((i) => i.kind === "rollout")!;
      const lines = await collect(createClient(RolloutService, rollout.server.localTransport), "off");
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).not.toHaveProperty("_ng_trace_id");
    } finally {
      await mesh.close();
    }
  });
});

describe("tracing on", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
  const one = (spans: ReadableSpan[], name: string) => {
    const found = named(spans, name);
    expect(found, `${name} in ${spans.map((s) => s.name).join(", ")}`).toHaveLength(1);
    return found[0]!;
  };
  const parentOf = (spans: ReadableSpan[], span: ReadableSpan) => spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
  const hasAttributes = (span: ReadableSpan, attributes: Attributes) => expect(span.attributes).toMatchObject(attributes);

  /** The spans of one rollout of the example task (a tool call, then the answer): names, attributes, parents. */
  function expectRolloutTrace(traceId: string, repeat: number | undefined, usage: { input_tokens: number; output_tokens: number }) {
    const spans = spansOf(traceId);
    const root = one(spans, "gym.rollout");
    if (repeat !== undefined) {
      expect(root.parentSpanContext).toBeUndefined();
      hasAttributes(root, { "gym.task.index": 0, "gym.repeat.index": repeat, "gym.agent.name": AGENT, "gym.rollout.id": expect.any(String), "gym.reward": 1 });
    }
    const run = one(spans, "gymmesh.v1.AgentService/Run");
    expect(parentOf(spans, run)).toBe(root);
    hasAttributes(run, { "rpc.system": "grpc", "rpc.service": "gymmesh.v1.AgentService", "rpc.method": "Run", "rpc.grpc.status_code": 0 });
    expect(parentOf(spans, one(spans, "gymmesh.v1.ResourcesService/SeedSession"))).toBe(run);

    const models = named(spans, "gymmesh.v1.ModelService/CreateResponse");
    expect(models).toHaveLength(2);
    const chats = named(spans, "chat mock");
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(models).toContain(parentOf(spans, chat));
      expect(parentOf(spans, parentOf(spans, chat)!)).toBe(run);
      expect(chat.kind).toBe(2); // CLIENT
      hasAttributes(chat, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "mock",
        "gen_ai.response.model": expect.any(String),
      });
    }
    expect(chats.map((c) => (c.attributes["gen_ai.response.finish_reasons"] as string[])[0]).sort()).toEqual(["stop", "tool_calls"]);
    // The replayed trajectory's usage comes with its last step (mock-model/replay.ts).
    const last = chats.find((c) => (c.attributes["gen_ai.response.finish_reasons"] as string[])[0] === "stop")!;
    hasAttributes(last, { "gen_ai.usage.input_tokens": usage.input_tokens, "gen_ai.usage.output_tokens": usage.output_tokens });

    const tool = one(spans, "execute_tool get_weather");
    expect(parentOf(spans, tool)).toBe(run);
    hasAttributes(tool, { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": expect.stringMatching(/.+/) });
    expect(parentOf(spans, one(spans, "gymmesh.v1.ResourcesService/CallTool"))).toBe(tool);

    const verify = one(spans, "verify");
    expect(parentOf(spans, verify)).toBe(run);
    hasAttributes(verify, { "gym.reward": 1 });
    expect(parentOf(spans, one(spans, "gymmesh.v1.ResourcesService/Verify"))).toBe(verify);
    for (const span of spans) expect(span.status.code, span.name).not.toBe(2); // no ERROR
  }

  function expectTraces(lines: Record<string, unknown>[]) {
    expect(lines).toHaveLength(2);
    const ids = lines.map((l) => l._ng_trace_id as string);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(2); // one trace per rollout
    for (const line of lines) {
      const usage = (line.response as { usage: { input_tokens: number; output_tokens: number } }).usage;
      expectRolloutTrace(line._ng_trace_id as string, line._ng_rollout_index as number, usage);
    }
  }

  describe("over real ports, each instance its own server", () => {
    const meshes: RunningMesh[] = [];
    const urls: Record<string, { url: string; grpcUrl: string }> = {};
    const start = async (only: string[], addresses: Record<string, string>) => {
      const mesh = await startMesh({ ...base, addresses: { ...base.addresses, ...addresses } }, { only });
      meshes.push(mesh);
      for (const inst of mesh.instances) urls[inst.name] = { url: inst.server.url, grpcUrl: inst.server.grpcUrl! };
    };

    beforeAll(async () => {
      // agent -> model over the grpc-js port, agent -> resources over connect (http://), rollout -> agent over grpc-js.
      await start(["mock_openai", "policy_model"], {});
      await start([RESOURCES], {});
      await start([AGENT], { policy_model: urls.policy_model!.grpcUrl, [RESOURCES]: urls[RESOURCES]!.url });
      await start(["rollout"], { [AGENT]: urls[AGENT]!.grpcUrl });
    });
    afterAll(async () => {
      for (const mesh of meshes.reverse()) await mesh.close();
    });

    it("collector -> rollout (connect, bidi stream) -> agent -> model -> resources: one trace per rollout", async () => {
      exporter.reset();
      expectTraces(await collect(clientFor(RolloutService, urls.rollout!.url), "connect"));
    });

    it("collector -> rollout over its grpc-js port", async () => {
      exporter.reset();
      expectTraces(await collect(clientFor(RolloutService, urls.rollout!.grpcUrl), "grpc"));
    });

    it("a direct Run joins the caller's trace: gym.rollout is a child of the caller's span (unary and streaming, both ports)", async () => {
      exporter.reset();
      const caller = trace.getTracer("test");
      for (const url of [urls[AGENT]!.url, urls[AGENT]!.grpcUrl]) {
        const agent = clientFor(AgentService, url);
        await caller.startActiveSpan("caller", async (span) => {
          const { outputLineJson } = await agent.run({ input: { case: "rowJson", value: JSON.stringify(row) }, wantOutputLine: true });
          const traceId = span.spanContext().traceId;
          expect(JSON.parse(outputLineJson)._ng_trace_id).toBe(traceId);
          const spans = spansOf(traceId);
          const rollout = one(spans, "gym.rollout");
          expect(parentOf(spans, rollout)?.name).toBe("gymmesh.v1.AgentService/Run");
          expect(rollout.attributes["gym.agent.name"]).toBe(AGENT);
          let streamed: string | undefined;
          for await (const event of agent.runStream({ input: { case: "rowJson", value: JSON.stringify(row) } })) {
            if (event.event.case === "rollout") streamed = event.event.value.traceId;
          }
          expect(streamed).toBe(traceId);
          span.end();
          expect(named(spansOf(traceId), "gymmesh.v1.AgentService/RunStream")).toHaveLength(1);
          expect(named(spansOf(traceId), "gym.rollout")).toHaveLength(2);
        });
      }
    });
  });

  it("in-process (the local transport): the same trees", async () => {
    exporter.reset();
    const mesh = await startMesh(base);
    try {
      const rollout = mesh.instances.find((i) => i.kind === "rollout")!;
      expectTraces(await collect(createClient(RolloutService, rollout.server.localTransport), "local"));
    } finally {
      await mesh.close();
    }
  });
});
