// gRPC health checking (grpc.health.v1.Health) for connect-node routers.
// Spec: https://github.com/grpc/grpc/blob/master/doc/health-checking.md
// The npm health packages only mount on grpc-js servers, hence this module.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthListResponseSchema,
} from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/** A status as the enum or its name, e.g. "SERVING". */
export type StatusLike = ServingStatus | keyof typeof ServingStatus;

type Listener = (service: string, status: ServingStatus) => void;

/** Serving status per service name; "" stands for the whole server. */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Set<Listener>();
  private shuttingDown = false;

  /** The server as a whole starts SERVING, as in grpc-go's health.NewServer(). */
  constructor(initial: Record<string, StatusLike> = { "": "SERVING" }) {
    for (const [service, status] of Object.entries(initial)) this.set(service, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets a service's status. Ignored after shutdown(), so a late set() cannot undo a drain. */
  set(service: string, status: StatusLike): void {
    if (this.shuttingDown) return;
    this.update(service, typeof status === "string" ? ServingStatus[status] : status);
  }

  /** Marks every service NOT_SERVING (as grpc does on drain) so balancers stop routing here. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const service of this.statuses.keys()) this.update(service, ServingStatus.NOT_SERVING);
  }

  entries(): [string, ServingStatus][] {
    return [...this.statuses];
  }

  /** Calls fn on every change; returns the unsubscribe function. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private update(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const fn of this.listeners) fn(service, status);
  }
}

export function registerHealth(router: ConnectRouter, health: HealthStatus): ConnectRouter {
  return router.service(Health, healthImpl(health));
}

/** grpc.health.v1.Health answering from `health`. */
export function healthImpl(health: HealthStatus): ServiceImpl<typeof Health> {
  const response = (status: ServingStatus) => create(HealthCheckResponseSchema, { status });
  return {
    check(req) {
      const status = health.get(req.service);
      // The spec requires NOT_FOUND (not SERVICE_UNKNOWN) for unknown names in Check.
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return response(status);
    },

    list() {
      const statuses = Object.fromEntries(health.entries().map(([s, st]) => [s, response(st)]));
      return create(HealthListResponseSchema, { statuses });
    },

    // Sends the current status, then every change, until the client cancels.
    // Unknown services get SERVICE_UNKNOWN but the stream stays open, per the spec.
    async *watch(req, ctx) {
      const pending: ServingStatus[] = [];
      let wake: (() => void) | undefined;
      // Subscribe before reading the current status so no change can slip in between.
      const unsubscribe = health.subscribe((service, status) => {
        if (service !== req.service) return;
        pending.push(status);
        wake?.();
      });
      const onAbort = () => wake?.();
      ctx.signal.addEventListener("abort", onAbort);
      try {
        let last = health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        yield response(last);
        while (!ctx.signal.aborted) {
          const next = pending.shift();
          if (next === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          if (next === last) continue; // only report actual transitions
          last = next;
          yield response(next);
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
