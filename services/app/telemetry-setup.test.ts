// The tracing switch (the standard OTEL_* variables) and the file exporter's
// lines as gym view reads them back (viewer/traces.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { TraceIndex } from "../viewer/traces.js";
import { FileSpanExporter } from "./file-span-exporter.js";
import { requestedExporters } from "./telemetry-setup.js";

describe("requestedExporters", () => {
  it("is off unless OTEL_TRACES_EXPORTER or an OTLP endpoint asks, and OTEL_SDK_DISABLED wins", () => {
    expect(requestedExporters({})).toEqual([]);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: "none" })).toEqual([]);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: "file, console" })).toEqual(["file", "console"]);
    expect(requestedExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual(["otlp"]);
    expect(requestedExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toEqual(["otlp"]);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: "file", OTEL_SDK_DISABLED: "true" })).toEqual([]);
    expect(() => requestedExporters({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/"zipkin" is not one of otlp, console, file, none/);
  });
});

describe("the file exporter and the viewer's trace index", () => {
  it("writes OTLP-JSON lines that TraceIndex reads back per trace, as the file grows", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gym-spans-")), "run_traces.jsonl");
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new FileSpanExporter(file))] });
    const tracer = provider.getTracer("test");
    const index = new TraceIndex([file]);
    expect(index.available()).toBe(true);

    const root = tracer.startSpan("gym.rollout", { attributes: { "gym.task.index": 3 } });
    const chat = tracer.startSpan("chat mock", { kind: SpanKind.CLIENT, attributes: { "gen_ai.response.finish_reasons": ["stop"] } }, trace.setSpan(ROOT_CONTEXT, root));
    chat.setStatus({ code: SpanStatusCode.ERROR, message: "upstream 500" });
    chat.end();
    await provider.forceFlush();
    const traceId = root.spanContext().traceId;
    expect((await index.trace(traceId)).map((s) => s.name)).toEqual(["chat mock"]);

    root.end();
    tracer.startSpan("gym.rollout").end(); // another trace
    await provider.shutdown();
    const spans = await index.trace(traceId);
    expect(spans.map((s) => s.name)).toEqual(["gym.rollout", "chat mock"]);
    const [rootSpan, chatSpan] = spans;
    expect(rootSpan).toMatchObject({ parentSpanId: "", kind: 1, startMs: 0, attributes: { "gym.task.index": 3 } });
    expect(chatSpan).toMatchObject({ parentSpanId: rootSpan!.spanId, kind: 3, status: 2, statusMessage: "upstream 500", attributes: { "gen_ai.response.finish_reasons": ["stop"] } });
    expect(chatSpan!.startMs).toBeGreaterThanOrEqual(0);
    expect(await index.trace("0".repeat(32))).toEqual([]);
    expect(await index.trace("not-an-id")).toEqual([]);
  });
});
