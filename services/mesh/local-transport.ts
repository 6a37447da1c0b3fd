// A connect Transport that calls a service implementation in this process:
// instances started together reach each other through it, with no network
// hop and no HTTP/2 framing, yet with what a call over the wire gives: copies
// of the messages (neither side sees the other's later changes), the caller's
// deadline and cancellation in the handler's context, an error's code and
// message only, the call counted in the callee's metrics, and the caller's
// trace context (the handler runs in it, in a server span as over the wire).
// It is the one in-process transport: servers, the NeMo Gym HTTP routes and
// tests all use it.
import { clone, create, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { context } from "@opentelemetry/api";
import { Code, ConnectError, createClient, type Client, type HandlerContext, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { codeName } from "./codes.js";
import type { ServiceWithImpl } from "./grpc-js-server.js";
import { handlerContext } from "./handler-context.js";
import type { ServerMetrics } from "./metrics.js";
import { endServerSpan, handlerTraceContext, runIn, serverSpan, tracedStream } from "./tracing.js";

type Message = MessageShape<DescMessage>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => any;

/** A typed client of one service implementation in this process (counted in `metrics` when given). */
export function localClient<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>, metrics?: ServerMetrics): Client<S> {
  return createClient(service, createLocalTransport([{ service, impl: impl as ServiceWithImpl["impl"] }], metrics));
}

export function createLocalTransport(services: ServiceWithImpl[], metrics?: ServerMetrics): Transport {
  const handlers = new Map<string, Handler>();
  for (const { service, impl } of services) {
    for (const method of service.methods) {
      const fn = impl[method.localName];
      if (fn) handlers.set(`${service.typeName}/${method.name}`, fn.bind(impl));
    }
  }
  const handlerOf = (method: DescMethod): Handler => {
    const fn = handlers.get(`${method.parent.typeName}/${method.name}`);
    if (!fn) throw new ConnectError(`${method.parent.typeName}.${method.name} is not implemented`, Code.Unimplemented);
    return fn;
  };

  return {
    async unary(method, signal, timeoutMs, header, input) {
      const fn = handlerOf(method);
      const call = startCall(method, signal, timeoutMs, header, metrics);
      // The handler runs in the caller's trace context, in this call's span when traced.
      const parent = context.active();
      const span = serverSpan(method, parent);
      const traceContext = handlerTraceContext(parent, span);
      try {
        const running = Promise.resolve().then(() => runIn(traceContext, () => fn(clone(method.input, create(method.input, input)), call.ctx)));
        call.settleWith(running);
        if (span) running.then(() => endServerSpan(span), (err: unknown) => endServerSpan(span, err));
        const out = await untilAborted(running, call.ctx.signal);
        return withHeaders({ stream: false as const, service: method.parent, method, message: clone(method.output, create(method.output, out)) }, call.ctx);
      } catch (err) {
        throw asOwnError(err);
      }
    },

    async stream(method, signal, timeoutMs, header, input) {
      const fn = handlerOf(method);
      const call = startCall(method, signal, timeoutMs, header, metrics);
      const parent = context.active();
      const span = serverSpan(method, parent);
      const traceContext = handlerTraceContext(parent, span);
      const requests = copies(input as AsyncIterable<Message>, method.input);
      let source: AsyncIterable<unknown>;
      switch (method.methodKind) {
        case "server_streaming": {
          let first: Message | undefined;
          for await (const message of requests) {
            first = message;
            break;
          }
          source = runIn(traceContext, () => fn(first ?? create(method.input), call.ctx));
          break;
        }
        case "client_streaming": {
          const single = Promise.resolve().then(() => runIn(traceContext, () => fn(requests, call.ctx)));
          source = (async function* () {
            yield await single;
          })();
          break;
        }
        default:
          source = runIn(traceContext, () => fn(requests, call.ctx));
      }
      const iterator = tracedStream(source, traceContext, span)[Symbol.asyncIterator]();
      let code = "ok";
      async function* responses(): AsyncGenerator<Message> {
        try {
          for (;;) {
            const next = await untilAborted(iterator.next(), call.ctx.signal);
            if (next.done) break;
            yield clone(method.output, create(method.output, next.value as never));
          }
        } catch (err) {
          const error = asOwnError(err);
          code = codeName(error.code);
          throw error;
        } finally {
          // The caller stopped early (or the call failed): end the handler's stream too.
          if (code === "ok" && call.ctx.signal.aborted) code = codeName(ConnectError.from(call.ctx.signal.reason).code);
          void iterator.return?.();
          call.end(code);
        }
      }
      return withHeaders({ stream: true as const, service: method.parent, method, message: responses() as never }, call.ctx);
    },
  };
}

/**
 * The handler's context for one call: aborted by the caller's signal or at the
 * deadline. The call is counted when the handler is done (a unary handler may
 * outlive an aborted call: it is counted under the abort's code then).
 */
function startCall(method: DescMethod, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeadersInit | undefined, metrics: ServerMetrics | undefined) {
  const done = metrics?.observe(method.parent.typeName, method.name) ?? (() => {});
  const controller = new AbortController();
  const onAbort = () => controller.abort(ConnectError.from(signal?.reason, Code.Canceled));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const deadlineMs = timeoutMs !== undefined && timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  const timer =
    deadlineMs === undefined ? undefined : setTimeout(() => controller.abort(new ConnectError("the deadline passed", Code.DeadlineExceeded)), timeoutMs);
  let ended = false;
  const end = (code: string) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    done(code);
  };
  const ctx = handlerContext({
    method,
    protocolName: "local",
    signal: () => controller.signal,
    timeoutMs: () => (deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - Date.now())),
    requestHeader: () => new Headers(header),
  });
  return {
    ctx,
    end,
    /** Counts a unary call when its handler settles. */
    settleWith(running: Promise<unknown>) {
      running.then(
        () => end(controller.signal.aborted ? codeName(ConnectError.from(controller.signal.reason).code) : "ok"),
        (err: unknown) => end(codeName(ConnectError.from(controller.signal.aborted ? controller.signal.reason : err).code)),
      );
    },
  };
}

/** The response's header and trailer: the handler's, read when the caller reads them. */
function withHeaders<T extends object>(response: T, ctx: HandlerContext): T & { readonly header: Headers; readonly trailer: Headers } {
  return Object.defineProperties(response, {
    header: { get: () => ctx.responseHeader, enumerable: true },
    trailer: { get: () => ctx.responseTrailer, enumerable: true },
  }) as T & { readonly header: Headers; readonly trailer: Headers };
}

/** Settles with `work`, or rejects with the abort reason as soon as the signal aborts (as a call over the wire would). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener("abort", onAbort), reject(err as Error)),
    );
  });
}

async function* copies(input: AsyncIterable<Message>, schema: DescMessage): AsyncGenerator<Message> {
  for await (const message of input) yield clone(schema, create(schema, message as never));
}

/** Code and message only: the callee's response headers are not this caller's. */
function asOwnError(err: unknown): ConnectError {
  const error = ConnectError.from(err);
  return new ConnectError(error.rawMessage, error.code, undefined, undefined, error.cause);
}
