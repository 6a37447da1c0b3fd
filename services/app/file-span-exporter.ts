// OTEL_TRACES_EXPORTER=file: spans as OTLP-JSON lines (one
// ExportTraceServiceRequest per line, as an OTLP/HTTP JSON body), appended to
// a file that `gym view` reads to draw a rollout's spans. Each batch is one
// write to a file opened for appending, so processes may share the file.
import * as fs from "node:fs";
import * as path from "node:path";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

export class FileSpanExporter implements SpanExporter {
  private readonly fd: number;
  private pending = new Set<Promise<void>>();
  private closed = false;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = fs.openSync(file, "a");
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.closed) return done({ code: ExportResultCode.FAILED, error: new Error(`${this.file}: the exporter is shut down`) });
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) return done({ code: ExportResultCode.FAILED, error: new Error("the spans could not be serialised") });
    const line = Buffer.concat([body, Buffer.from("\n")]);
    const write = new Promise<void>((resolve) =>
      fs.write(this.fd, line, (err) => {
        this.pending.delete(write);
        done(err ? { code: ExportResultCode.FAILED, error: err } : { code: ExportResultCode.SUCCESS });
        resolve();
      }),
    );
    this.pending.add(write);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.forceFlush();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
