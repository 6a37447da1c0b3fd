// The spans `gym view` draws under a rollout: OTLP-JSON lines (one
// ExportTraceServiceRequest per line, what OTEL_TRACES_EXPORTER=file writes;
// app/file-span-exporter.ts) from `--traces FILE` or the
// `<stem>_traces.jsonl` beside a rollouts file. The files are indexed as
// they grow: per trace id, the byte ranges of the lines that hold its spans
// (memory follows the number of traces, not the spans); a rollout's spans are
// read from those lines when its page asks.
import * as fs from "node:fs";

/** One span as the page draws it: times in milliseconds from the trace's first span. */
export interface TraceSpan {
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's: 1 internal, 2 server, 3 client. */
  kind: number;
  service: string;
  startMs: number;
  durationMs: number;
  /** 2: ERROR. */
  status: number;
  statusMessage: string;
  attributes: Record<string, unknown>;
}

const TRACE_ID = /"traceId":"([0-9a-f]{32})"/g;

class TracesFile {
  private offset = 0;
  private size = -1;
  private readonly lines = new Map<string, [start: number, length: number][]>();

  constructor(readonly file: string) {}

  /** Indexes what the file gained (whole lines only); a file cut shorter is indexed again. */
  async refresh(): Promise<void> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(this.file);
    } catch {
      return;
    }
    if (stat.size < this.size) {
      this.offset = 0;
      this.lines.clear();
    }
    this.size = stat.size;
    if (stat.size <= this.offset) return;
    const handle = await fs.promises.open(this.file, "r");
    try {
      const chunk = Buffer.alloc(1 << 20);
      let carry = Buffer.alloc(0);
      let at = this.offset;
      while (at < stat.size) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
        if (bytesRead === 0) break;
        const data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
        const start = at - carry.length;
        at += bytesRead;
        let from = 0;
        for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, from)) {
          this.index(data.toString("utf8", from, nl), start + from, nl - from);
          from = nl + 1;
        }
        carry = Buffer.from(data.subarray(from));
        this.offset = start + from;
      }
    } finally {
      await handle.close();
    }
  }

  private index(line: string, start: number, length: number): void {
    const seen = new Set<string>();
    for (const match of line.matchAll(TRACE_ID)) seen.add(match[1]!);
    for (const id of seen) {
      let ranges = this.lines.get(id);
      if (!ranges) this.lines.set(id, (ranges = []));
      ranges.push([start, length]);
    }
  }

  async spans(traceId: string, into: TraceSpan[], startsNs: bigint[]): Promise<void> {
    const ranges = this.lines.get(traceId);
    if (!ranges) return;
    const handle = await fs.promises.open(this.file, "r");
    try {
      for (const [start, length] of ranges) {
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, start);
        collect(JSON.parse(buffer.toString("utf8")), traceId, into, startsNs);
      }
    } finally {
      await handle.close();
    }
  }
}

export class TraceIndex {
  private readonly files: TracesFile[];

  constructor(files: string[]) {
    this.files = [...new Set(files)].map((f) => new TracesFile(f));
  }

  /** Whether any of the files is there. */
  available(): boolean {
    return this.files.some((f) => fs.existsSync(f.file));
  }

  /** The spans of one trace, in start order (a root first at the same start), times from its first span. */
  async trace(traceId: string): Promise<TraceSpan[]> {
    if (!/^[0-9a-f]{32}$/.test(traceId)) return [];
    const spans: TraceSpan[] = [];
    const startsNs: bigint[] = [];
    for (const file of this.files) {
      await file.refresh();
      await file.spans(traceId, spans, startsNs);
    }
    const first = startsNs.reduce((a, b) => (b < a ? b : a), startsNs[0] ?? 0n);
    spans.forEach((s, i) => (s.startMs = Number(startsNs[i]! - first) / 1e6));
    // By start; at the same start, a root first.
    const rootFirst = (a: number, b: number) => Number(spans[a]!.parentSpanId !== "") - Number(spans[b]!.parentSpanId !== "");
    const order = spans.map((_, i) => i).sort((a, b) => (startsNs[a]! < startsNs[b]! ? -1 : startsNs[a]! > startsNs[b]! ? 1 : rootFirst(a, b)));
    return order.map((i) => spans[i]!);
  }
}

type Otlp = Record<string, unknown>;
const list = (v: unknown): Otlp[] => (Array.isArray(v) ? (v as Otlp[]) : []);

function collect(request: Otlp, traceId: string, into: TraceSpan[], startsNs: bigint[]): void {
  for (const resourceSpans of list(request.resourceSpans)) {
    const resource = attributesOf((resourceSpans.resource as Otlp | undefined)?.attributes);
    const service = String(resource["service.name"] ?? "");
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      for (const span of list(scopeSpans.spans)) {
        if (span.traceId !== traceId) continue;
        const start = BigInt(String(span.startTimeUnixNano ?? 0));
        const end = BigInt(String(span.endTimeUnixNano ?? 0));
        const status = (span.status ?? {}) as Otlp;
        startsNs.push(start);
        into.push({
          spanId: String(span.spanId ?? ""),
          parentSpanId: String(span.parentSpanId ?? ""),
          name: String(span.name ?? ""),
          kind: Number(span.kind ?? 0),
          service,
          startMs: 0,
          durationMs: Number(end - start) / 1e6,
          status: Number(status.code ?? 0),
          statusMessage: String(status.message ?? ""),
          attributes: attributesOf(span.attributes),
        });
      }
    }
  }
}

function attributesOf(attributes: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list(attributes)) out[String(key)] = valueOf(value as Otlp);
  return out;
}

function valueOf(value: Otlp | undefined): unknown {
  if (!value) return null;
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return value.doubleValue;
  if ("boolValue" in value) return value.boolValue;
  if ("arrayValue" in value) return list((value.arrayValue as Otlp).values).map(valueOf);
  return null;
}
