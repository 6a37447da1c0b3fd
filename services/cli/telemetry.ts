// Tracing for `gym serve` and `gym collect`: off unless the standard
// variables ask for it (OTEL_TRACES_EXPORTER, or an OTLP endpoint); then the
// SDK is loaded (app/telemetry-setup.ts). The returned stop exports what is
// left; call it before the process exits.
export async function startTracing(defaults: { rolloutsFile?: string } = {}): Promise<() => Promise<void>> {
  const env = process.env;
  if (!env.OTEL_TRACES_EXPORTER && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return async () => {};
  const [{ setupTelemetry }, { tracesPathOf }] = await Promise.all([import("../app/telemetry-setup.js"), import("../viewer/run-files.js")]);
  const telemetry = await setupTelemetry({ defaultFile: defaults.rolloutsFile ? tracesPathOf(defaults.rolloutsFile) : undefined });
  if (!telemetry) return async () => {};
  return () => telemetry.shutdown().catch((err: Error) => void process.stderr.write(`gym: exporting the last spans failed: ${err.message}\n`));
}
