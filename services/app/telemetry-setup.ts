// Tracing for a process that runs the mesh (the `gym` command): the
// OpenTelemetry SDK, its exporters and the global provider, set up from the
// standard variables. Library code uses only the API (mesh/tracing.ts); this
// module is loaded only when tracing is asked for.
//
//   OTEL_SDK_DISABLED=true         off, whatever else is set
//   OTEL_TRACES_EXPORTER           otlp, console, file or none (a comma list);
//                                  unset: otlp when an OTLP endpoint is set, else off
//   OTEL_EXPORTER_OTLP_ENDPOINT,   OTLP over HTTP/protobuf (and the exporter's
//   OTEL_EXPORTER_OTLP_TRACES_*    other OTEL_EXPORTER_OTLP_* settings)
//   GYM_TRACES_FILE                the file exporter's OTLP-JSON lines (default:
//                                  beside `gym collect`'s output, else traces.jsonl)
//   OTEL_SERVICE_NAME              default gym-mesh; OTEL_RESOURCE_ATTRIBUTES,
//                                  OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_* as usual
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-node";
import { ConfigError } from "../mesh/errors.js";
import { FileSpanExporter } from "./file-span-exporter.js";

export const EXPORTERS = ["otlp", "console", "file", "none"] as const;

/** The exporters the variables ask for; empty: tracing is off. */
export function requestedExporters(env: NodeJS.ProcessEnv = process.env): string[] {
  if (/^(true|1)$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? "")) return [];
  const listed = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const chosen = listed.length > 0 ? listed : env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ["otlp"] : [];
  for (const name of chosen) {
    if (!(EXPORTERS as readonly string[]).includes(name)) throw new ConfigError(`OTEL_TRACES_EXPORTER: "${name}" is not one of ${EXPORTERS.join(", ")}`);
  }
  return chosen.filter((name) => name !== "none");
}

export interface Telemetry {
  /** Where the file exporter writes, when it is on. */
  file?: string;
  /** Exports what is left and stops (before the process exits). */
  shutdown(): Promise<void>;
}

/** Registers the SDK as the process's tracer provider, context manager and (W3C trace context and baggage) propagator. */
export async function setupTelemetry(options: { env?: NodeJS.ProcessEnv; defaultFile?: string } = {}): Promise<Telemetry | undefined> {
  const env = options.env ?? process.env;
  const exporters = requestedExporters(env);
  if (exporters.length === 0) return undefined;
  const processors: SpanProcessor[] = [];
  let file: string | undefined;
  for (const name of exporters) {
    if (name === "console") processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    if (name === "file") {
      file = env.GYM_TRACES_FILE || options.defaultFile || "traces.jsonl";
      processors.push(new BatchSpanProcessor(new FileSpanExporter(file)));
    }
    if (name === "otlp") {
      const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
      if (protocol !== "http/protobuf") throw new ConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL: gym exports OTLP over http/protobuf only, not ${protocol}`);
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    }
  }
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "gym-mesh" }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  provider.register();
  return { file, shutdown: () => provider.shutdown() };
}
