// Prometheus metrics of one server instance, served on `GET /metrics` of its
// port: requests and errors per RPC, latency histograms, and gauges the
// services update (rollouts in flight, sessions open).
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeName } from "./codes.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"service" | "method" | "code">;
  readonly latency: Histogram<"service" | "method">;
  readonly rolloutsInFlight: Gauge;
  readonly sessionsOpen: Gauge;

  constructor(instance: string, gauges: { rolloutsInFlight?: () => number; sessionsOpen?: () => number } = {}) {
    this.registry.setDefaultLabels({ instance });
    const registers = [this.registry];
    this.requests = new Counter({
      name: "gym_rpc_requests_total",
      help: "RPCs handled, by final gRPC code (ok or the error's code)",
      labelNames: ["service", "method", "code"],
      registers,
    });
    this.latency = new Histogram({
      name: "gym_rpc_duration_seconds",
      help: "Time to handle an RPC (for server streams: until the last message)",
      labelNames: ["service", "method"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300],
      registers,
    });
    const readAtScrape = (read?: () => number) => (read ? { collect(this: Gauge) { this.set(read()); } } : {});
    this.rolloutsInFlight = new Gauge({ name: "gym_rollouts_in_flight", help: "Rollouts running now", registers, ...readAtScrape(gauges.rolloutsInFlight) });
    this.sessionsOpen = new Gauge({ name: "gym_sessions_open", help: "Environment sessions open now", registers, ...readAtScrape(gauges.sessionsOpen) });
  }

  /** Label objects per RPC and per (RPC, code), made once: prom-client copies and re-checks whatever it is given. */
  private readonly labelsOf = new Map<string, { rpc: { service: string; method: string }; byCode: Map<string, { service: string; method: string; code: string }> }>();

  /** Starts timing one RPC; call the result once with its final code name. */
  observe(service: string, method: string): (code: string) => void {
    const key = `${service}/${method}`;
    let labels = this.labelsOf.get(key);
    if (!labels) this.labelsOf.set(key, (labels = { rpc: { service, method }, byCode: new Map() }));
    const started = performance.now();
    return (code) => {
      this.latency.observe(labels.rpc, (performance.now() - started) / 1000);
      let withCode = labels.byCode.get(code);
      if (!withCode) labels.byCode.set(code, (withCode = { service, method, code }));
      this.requests.inc(withCode);
    };
  }

  /** Counts and times every RPC, streaming ones until their stream ends. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const done = this.observe(req.service.typeName, req.method.name);
      try {
        const res = await next(req);
        if (!res.stream) {
          done("ok");
          return res;
        }
        const source = res.message;
        async function* counted(): AsyncGenerator<typeof source extends AsyncIterable<infer M> ? M : never> {
          let code = "canceled"; // the caller went away before the end
          try {
            yield* source as AsyncIterable<never>;
            code = "ok";
          } catch (err) {
            code = codeOf(err);
            throw err;
          } finally {
            done(code);
          }
        }
        return { ...res, message: counted() } as typeof res;
      } catch (err) {
        done(codeOf(err));
        throw err;
      }
    };
  }
}

export function codeOf(err: unknown): string {
  return codeName(ConnectError.from(err).code);
}
