// A connect Transport that calls a service implementation in this process:
// instances started together reach each other through it, with no network
// hop and no HTTP/2 framing, yet with what a call over the wire gives: the
// handler gets its own copy of each request (its changes stay on its side,
// and the caller's later changes do not reach it), the caller's deadline and
// cancellation in the handler's context, an error's code and message only,
// the call counted in the callee's metrics, and the caller's trace context
// (the handler runs in it, in a server span as over the wire).
// Responses are handed over as the handler made them, not copied: a handler
// returns (or yields) a message it does not keep or change afterwards, so the
// caller owns it, as it would own one decoded from the wire.
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
        const running = Promise.resolve().then(() => runIn(traceContext, () => fn(copyMessage(method.input, create(method.input, input)), call.ctx)));
        call.settleWith(running);
        if (span) running.then(() => endServerSpan(span), (err: unknown) => endServerSpan(span, err));
        const out = await call.untilAborted(running);
        return withHeaders(false, method, create(method.output, out), call.ctx);
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
            const next = await call.untilAborted(iterator.next());
            if (next.done) break;
            yield create(method.output, next.value as never);
          }
        } catch (err) {
          const error = asOwnError(err);
          code = codeName(error.code);
          throw error;
        } finally {
          // The caller stopped early (or the call failed): end the handler's stream too.
          const reason = call.abortReason();
          if (code === "ok" && reason) code = codeName(reason.code);
          void iterator.return?.();
          call.end(code);
        }
      }
      return withHeaders(true, method, responses() as never, call.ctx);
    },
  };
}

/**
 * The handler's context for one call: aborted by the caller's signal or at the
 * deadline. The call is counted when the handler is done (a unary handler may
 * outlive an aborted call: it is counted under the abort's code then). The
 * handler's AbortSignal is made only if the handler reads it (the caller's
 * wait for an abort needs none).
 */
function startCall(method: DescMethod, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeadersInit | undefined, metrics: ServerMetrics | undefined) {
  const done = metrics?.observe(method.parent.typeName, method.name) ?? (() => {});
  let reason: ConnectError | undefined;
  let controller: AbortController | undefined;
  /** The caller waiting for the handler (one wait at a time), rejected by an abort. */
  let waiting: ((reason: ConnectError) => void) | undefined;
  const abort = (why: ConnectError) => {
    if (reason) return;
    reason = why;
    controller?.abort(why);
    waiting?.(why);
  };
  const onAbort = () => abort(ConnectError.from(signal?.reason, Code.Canceled));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const deadlineMs = timeoutMs !== undefined && timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  const timer = deadlineMs === undefined ? undefined : setTimeout(() => abort(new ConnectError("the deadline passed", Code.DeadlineExceeded)), timeoutMs);
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
    signal: () => {
      if (!controller) {
        controller = new AbortController();
        if (reason) controller.abort(reason);
      }
      return controller.signal;
    },
    timeoutMs: () => (deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - Date.now())),
    requestHeader: () => new Headers(header),
  });
  return {
    ctx,
    end,
    abortReason: () => reason,
    /** Counts a unary call when its handler settles. */
    settleWith(running: Promise<unknown>) {
      running.then(
        () => end(reason ? codeName(reason.code) : "ok"),
        (err: unknown) => end(codeName(ConnectError.from(reason ?? err).code)),
      );
    },
    /** Settles with `work`, or rejects with the abort's reason as soon as the call is aborted (as a call over the wire would). */
    untilAborted<T>(work: Promise<T>): Promise<T> {
      if (reason) return Promise.reject(reason);
      // Nothing can abort the call: no wait of its own.
      if (!signal && timer === undefined) return work;
      return new Promise<T>((resolve, reject) => {
        waiting = reject;
        work.then(
          (value) => ((waiting = undefined), resolve(value)),
          (err: unknown) => ((waiting = undefined), reject(err as Error)),
        );
      });
    },
  };
}

/** The response, with the handler's header and trailer read when the caller reads them. */
function withHeaders<S extends boolean, M>(stream: S, method: DescMethod, message: M, ctx: HandlerContext) {
  return {
    stream,
    service: method.parent,
    method,
    message,
    get header(): Headers {
      return ctx.responseHeader;
    },
    get trailer(): Headers {
      return ctx.responseTrailer;
    },
  } as never;
}

async function* copies(input: AsyncIterable<Message>, schema: DescMessage): AsyncGenerator<Message> {
  for await (const message of input) yield copyMessage(schema, create(schema, message as never));
}

/** Thrown inside copyValue at a value it does not copy structurally. */
const NOT_PLAIN = Symbol("not plain");

/**
 * A deep copy of a message. Messages of proto3 files (all of the mesh's) are
 * plain objects of plain values, arrays and Uint8Arrays, and are copied as
 * such, with no reflection; anything else (a message with a prototype chain
 * of defaults, from a proto2 or editions file) is copied by protobuf-es's clone.
 */
export function copyMessage<T extends Message>(schema: DescMessage, message: T): T {
  try {
    return copyValue(message) as T;
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return clone(schema, message) as T;
  }
}

function copyValue(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyValue(value[i]);
    return out;
  }
  if (value instanceof Uint8Array) return value.slice();
  if (Object.getPrototypeOf(value) !== Object.prototype) throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyValue((value as Record<string, unknown>)[key]);
  return out;
}

/** Code and message only: the callee's response headers are not this caller's. */
function asOwnError(err: unknown): ConnectError {
  const error = ConnectError.from(err);
  return new ConnectError(error.rawMessage, error.code, undefined, undefined, error.cause);
}
