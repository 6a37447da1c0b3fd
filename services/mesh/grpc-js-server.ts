// Serves the same connect-style service implementations the connect router
// serves, on a grpc-js server: plain gRPC over h2c at roughly a third of
// connect-node's CPU per call. The mesh's own services call each other here.
// The port's listener is ours, guarded as the main port's (connection caps, a
// deadline for first bytes); grpc-js gets each connection from it.
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { serverAuth, type MeshSecurity } from "./auth.js";
import { codeName } from "./codes.js";
import { guardListener } from "./connection-guard.js";
import { GRPC_JS_OPTIONS, headersFromMetadata, metadataFromHeaders, serviceDefinition } from "./grpc-js-definitions.js";
import { handlerContext } from "./handler-context.js";
import { DEFAULT_LIMITS, type Limits } from "./kind.js";
import type { ServerMetrics } from "./metrics.js";
import { grpcJsServerCredentials } from "./tls.js";
import { extractFromMetadata } from "./trace-context.js";
import { endServerSpan, handlerTraceContext, runIn, serverSpan, tracedStream } from "./tracing.js";

/** A service and its implementation (methods it leaves out answer UNIMPLEMENTED). */
export interface ServiceWithImpl {
  service: DescService;
  // Implementations are typed per service where they are written; here any method shape goes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  impl: Partial<Record<string, (...args: any[]) => any>>;
}

export interface GrpcJsServer {
  port: number;
  /** Lets calls in flight finish (up to `graceMs`), then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

export async function serveGrpcJs(options: {
  host: string;
  port: number;
  services: ServiceWithImpl[];
  metrics: ServerMetrics;
  /** The bearer token checked on every call but health, and TLS (mutual with a CA). */
  security?: MeshSecurity;
  /** Message size, connections, idle and keepalive (mesh/kind.ts `limits`); the defaults when absent. */
  limits?: Limits;
  /** The instance's name, for logs. */
  name?: string;
}): Promise<GrpcJsServer> {
  const auth = serverAuth(options.security);
  const refused = (service: string, method: string) => options.metrics.observe(service, method)(codeName(Code.Unauthenticated));
  const limits = options.limits ?? DEFAULT_LIMITS;
  const serverOptions = { ...GRPC_JS_OPTIONS, ...limitOptions(limits) };
  const server = new grpc.Server(auth ? { ...serverOptions, interceptors: [auth.grpcJs(refused)] } : serverOptions);
  for (const { service, impl } of options.services) {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const fn = impl[method.localName];
      if (fn) handlers[method.name] = handlerFor(method, fn.bind(impl), options.metrics);
    }
    server.addService(serviceDefinition(service), handlers);
  }
  const injector = server.createConnectionInjector(grpcJsServerCredentials(options.security?.tls));
  const sockets = new Set<net.Socket>();
  const listener = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  guardListener(listener, limits, `${options.name ?? "grpc-js"} grpc-js port`);
  const port = await new Promise<number>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen({ host: options.host, port: options.port, backlog: 65_535 }, () => resolve((listener.address() as net.AddressInfo).port));
  });
  return {
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        listener.close();
        const done = () => {
          for (const socket of sockets) socket.destroy(); // connections that never became a session
          resolve();
        };
        const cut = setTimeout(() => {
          server.forceShutdown();
          done();
        }, graceMs);
        cut.unref();
        server.tryShutdown(() => {
          clearTimeout(cut);
          done();
        });
      }),
  };
}

/** grpc-js's names for the limits it enforces itself (the message size after decompression too). */
function limitOptions(limits: Limits): grpc.ServerOptions {
  return {
    "grpc.max_receive_message_length": limits.max_message_bytes,
    ...(limits.http2_idle_timeout_s > 0 ? { "grpc.max_connection_idle_ms": limits.http2_idle_timeout_s * 1000 } : {}),
    ...(limits.keepalive_time_s > 0
      ? { "grpc.keepalive_time_ms": limits.keepalive_time_s * 1000, "grpc.keepalive_timeout_ms": limits.keepalive_timeout_s * 1000 }
      : {}),
  };
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;
type Callback = grpc.sendUnaryData<MessageShape<DescMessage>>;
type Writable = grpc.ServerWritableStream<unknown, MessageShape<DescMessage>> | grpc.ServerDuplexStream<unknown, MessageShape<DescMessage>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function handlerFor(method: DescMethod, fn: (...args: any[]) => any, metrics: ServerMetrics): grpc.UntypedHandleCall {
  const serviceName = method.parent.typeName;
  const fail = (err: unknown, done: (code: string) => void): grpc.ServerErrorResponse => {
    const error = ConnectError.from(err);
    done(codeName(error.code));
    // Code and message only: headers of an error re-raised from a peer must not leak into this answer.
    return { name: "ConnectError", message: error.rawMessage, code: error.code as number, details: error.rawMessage };
  };

  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return (call: AnyCall, callback: Callback) => {
        const done = metrics.observe(serviceName, method.name);
        const ctx = contextFor(call, method);
        const input = method.methodKind === "unary" ? (call as grpc.ServerUnaryCall<unknown, unknown>).request : requestsOf(call);
        // The handler runs in the caller's trace context (and this call's span, if traced).
        const parent = extractFromMetadata(call.metadata);
        const span = serverSpan(method, parent);
        const traceContext = handlerTraceContext(parent, span);
        Promise.resolve()
          .then(() => runIn(traceContext, () => fn(input, ctx)))
          .then(
            (out) => {
              // Past its deadline or cancelled, the caller already has its status: count that one.
              const aborted = ctx.abortReason();
              if (span) endServerSpan(span, aborted);
              if (aborted) return fail(aborted, done);
              done("ok");
              ctx.sendHeader();
              callback(null, create(method.output, out), ctx.trailer());
            },
            (err: unknown) => {
              if (span) endServerSpan(span, err);
              callback({ ...fail(err, done), metadata: ctx.trailer() });
            },
          );
      };
    case "server_streaming":
    case "bidi_streaming":
      return async (call: Writable) => {
        const done = metrics.observe(serviceName, method.name);
        const ctx = contextFor(call, method);
        const input = method.methodKind === "server_streaming" ? (call as grpc.ServerWritableStream<unknown, unknown>).request : requestsOf(call);
        const parent = extractFromMetadata(call.metadata);
        const span = serverSpan(method, parent);
        const traceContext = handlerTraceContext(parent, span);
        try {
          const answers = tracedStream(runIn(traceContext, () => fn(input, ctx)) as AsyncIterable<unknown>, traceContext, span);
          for await (const out of answers) {
            if (ctx.abortReason()) break;
            ctx.sendHeader();
            // A slow reader stops the producer here (HTTP/2 flow control reaches this write).
            if (!call.write(create(method.output, out as never))) await drainedOrCancelled(call, ctx.signal);
          }
          const aborted = ctx.abortReason();
          if (aborted) {
            fail(aborted, done);
            return;
          }
          done("ok");
          ctx.sendHeader();
          call.end(ctx.trailer());
        } catch (err) {
          const status = { ...fail(err, done), metadata: ctx.trailer() };
          if (!ctx.abortReason()) call.emit("error", status);
        }
      };
  }
}

/**
 * The caller's messages. Not `for await (... of call)`: that destroys the stream
 * when the caller half-closes, and with it the answers still to be written.
 */
function requestsOf(call: AnyCall): AsyncIterable<unknown> {
  return (call as grpc.ServerDuplexStream<unknown, unknown>).iterator({ destroyOnReturn: false });
}

function drainedOrCancelled(call: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      call.off("drain", finish);
      signal.removeEventListener("abort", finish);
      resolve();
    };
    call.once("drain", finish);
    signal.addEventListener("abort", finish, { once: true });
  });
}

/**
 * The HandlerContext the implementations read: an abort signal for cancellation and
 * deadlines, and the time left. The signal is made only when read (many handlers never
 * do, and an AbortController costs on Node 20); `abortReason` answers without making it.
 */
function contextFor(
  call: AnyCall,
  method: DescMethod,
): HandlerContext & { abortReason(): ConnectError | undefined; sendHeader(): void; trailer(): grpc.Metadata | undefined } {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  let controller: AbortController | undefined;
  let reason: ConnectError | undefined;
  // grpc-js answers DEADLINE_EXCEEDED by itself and then reports the call cancelled: stop the work behind it.
  (call as grpc.ServerUnaryCall<unknown, unknown>).once("cancelled", () => {
    reason =
      Date.now() >= deadlineMs
        ? new ConnectError("the deadline passed", Code.DeadlineExceeded)
        : new ConnectError("the caller cancelled the call", Code.Canceled);
    controller?.abort(reason);
  });
  let headerSent = false;
  const ctx = handlerContext({
    method,
    protocolName: "grpc",
    signal: () => {
      if (!controller) {
        controller = new AbortController();
        if (reason) controller.abort(reason);
      }
      return controller.signal;
    },
    timeoutMs: () => (Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined),
    requestHeader: () => headersFromMetadata(call.metadata),
  });
  return Object.assign(ctx, {
    abortReason: () => reason,
    // Only headers and trailers the handler set (most set none) are sent.
    sendHeader: () => {
      const header = ctx.setHeader();
      if (headerSent || !header) return;
      headerSent = true;
      call.sendMetadata(metadataFromHeaders(header));
    },
    trailer: () => {
      const trailer = ctx.setTrailer();
      return trailer && metadataFromHeaders(trailer);
    },
  });
}
