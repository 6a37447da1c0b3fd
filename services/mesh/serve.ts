// Hosts one service instance on one port: gRPC, gRPC-Web and Connect over
// HTTP/2 cleartext (h2c) and HTTP/1.1, plus health and reflection, plus any
// plain HTTP routes the instance adds (the fallback). Optionally a second
// port serves the same services over plain gRPC with grpc-js, the cheaper
// path the mesh's own services use to call each other.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl, Transport } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { serveGrpcJs, type GrpcJsServer, type ServiceWithImpl } from "./grpc-js-server.js";
import { createLocalTransport } from "./local-transport.js";
import { traceServer } from "./tracing.js";
import { H2_SESSION_MEMORY_MB } from "./http2-limits.js";
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { HealthStatus, healthImpl } from "./health.js";
import { reflectionImpls } from "./reflection.js";
import { errorBoundary } from "./error-boundary.js";
import { log } from "./log.js";
import { ServerMetrics } from "./metrics.js";
import { serverAuth, type MeshSecurity } from "./auth.js";
import { firstBytesDeadline, guardListener, guardSession } from "./connection-guard.js";
import { setRequestLimits } from "./http-io.js";
import { DEFAULT_LIMITS, type Limits } from "./kind.js";
import { answerUnknownRpc, checkConnectRequests, connectUndecodable } from "./protocol-errors.js";
import { tlsListener } from "./tls.js";
import "./text-encoding.js";

// The HTTP/2 connection preface starts with these bytes; no HTTP/1 method does.
const H2_PREFACE_START = Buffer.from("PRI ");


/** A plain HTTP handler for both HTTP/1.1 and HTTP/2 requests. */
export type HttpHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

export type HostedService = ServiceWithImpl;

/** A service with its implementation, ready to be served. */
export function hosted<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): HostedService {
  return { service, impl: impl as HostedService["impl"] };
}

export interface ServeOptions {
  /** Instance name, for logs. */
  name: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Also serve plain gRPC (grpc-js) on this port (0: a free one); none when absent. */
  grpcPort?: number;
  services: HostedService[];
  /** Plain HTTP routes (e.g. the OpenAI face); called for paths no RPC matches. */
  fallback?: HttpHandler;
  /** Read at each scrape of /metrics. */
  gauges?: { rolloutsInFlight?: () => number; sessionsOpen?: () => number };
  /** How long SIGTERM-style shutdown waits for in-flight calls before cutting them (default: limits.drain_timeout_s). */
  drainTimeoutMs?: number;
  /** Called when shutdown starts, so long-lived calls (Collect streams) can wind down within the drain timeout. */
  onDrain?: () => void;
  /** A bearer token on every call but health (and public /metrics), TLS on both ports (mesh/auth.ts, mesh/tls.ts). */
  security?: MeshSecurity;
  /** Message sizes, JSON depth, connections (mesh/kind.ts `limits`); the defaults when absent. */
  limits?: Limits;
}

export interface RunningServer {
  name: string;
  url: string;
  port: number;
  /** `grpc://host:port` of the grpc-js port (`grpcs://` with TLS), when there is one. */
  grpcUrl?: string;
  /** Calls this instance's services from the same process, with no network hop. */
  localTransport: Transport;
  health: HealthStatus;
  metrics: ServerMetrics;
  /** Stops accepting, lets in-flight calls finish (up to the drain timeout), then closes. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const health = new HealthStatus();
  for (const { service } of options.services) health.set(service.typeName, "SERVING");

  const all: ServiceWithImpl[] = [
    ...options.services,
    hosted(Health, healthImpl(health)),
    ...reflectionImpls(options.services.map((s) => s.service)).map(({ service, impl }) => hosted(service, impl as never)),
  ];
  const limits = options.limits ?? DEFAULT_LIMITS;
  const routes = (router: ConnectRouter) => {
    for (const { service, impl } of all) router.service(service, impl as never);
    checkConnectRequests(router, limits.max_json_depth);
  };
  const metrics = new ServerMetrics(options.name, options.gauges);
  const auth = serverAuth(options.security);
  const fallback: HttpHandler = (req, res) => {
    if (auth && !auth.http(req, res)) return;
    if (req.method === "GET" && req.url === "/metrics") {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    // A method no service here has: UNIMPLEMENTED for gRPC and Connect callers.
    if (answerUnknownRpc(req, res, options.name)) return;
    setRequestLimits(req, limits);
    if (options.fallback) return options.fallback(req, res);
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`no route ${req.method} ${req.url}\n`);
  };
  const adapter = connectNodeAdapter({
    routes,
    fallback,
    interceptors: [metrics.interceptor(), traceServer, ...(auth ? [auth.connect] : []), errorBoundary, connectUndecodable],
    // Each request message, counted after decompression (RESOURCE_EXHAUSTED past it).
    readMaxBytes: limits.max_message_bytes,
    // Compressed requests are still accepted, but answers go out plain: between
    // services on one network, gzip costs more CPU than the bytes it saves.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
  });

  // Count in-flight requests so shutdown can wait for them.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    // An answer complete before the request was read (a message too large, an
    // early error): end the HTTP/2 stream with RST_STREAM NO_ERROR, as gRPC
    // servers do, or it stays half-open while the caller waits to send the rest.
    // 'wantTrailers' comes once the answer is written; its trailers are queued in
    // it, before the reset that destroy() sends.
    if ("stream" in res) {
      const stream = res.stream;
      stream.once("wantTrailers", () => setImmediate(() => !stream.closed && !stream.readableEnded && stream.destroy()));
    }
    (adapter as (rq: typeof req, rs: typeof res) => void)(req, res);
  };

  const headersTimeout = limits.headers_timeout_s * 1000;
  const h1 = http.createServer(
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default).
    { headersTimeout, requestTimeout: Math.max(300_000, headersTimeout), connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeout / 4)) },
    handler,
  );
  // Peers keep pools of idle connections (an upstream model pool, a load balancer): Node's
  // 5 s keep-alive closes them under the peer's feet, and a request sent at that moment fails.
  h1.keepAliveTimeout = 65_000;
  // h1 never listens (the sniffer hands it its connections): 'listening' starts
  // Node's connection tracking, which enforces the timeouts above.
  h1.emit("listening");
  // One HTTP/2 connection per peer carries all its calls: let a session hold
  // many thousands of streams (Node's default 10 MB answers ENHANCE_YOUR_CALM).
  const h2 = http2.createServer({ maxSessionMemory: H2_SESSION_MEMORY_MB }, handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    guardSession(session, limits);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  // One port for both protocols: look at the first bytes of each connection.
  // noDelay: a gRPC answer goes out as several small writes (headers, data,
  // trailers); with Nagle's algorithm on, each waits for the peer's delayed ACK.
  const sniff = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const firstBytesCame = firstBytesDeadline(socket, limits);
    socket.once("data", (first: Buffer) => {
      firstBytesCame();
      socket.pause();
      socket.unshift(first);
      const n = Math.min(first.length, H2_PREFACE_START.length);
      const isH2 = first.subarray(0, n).equals(H2_PREFACE_START.subarray(0, n));
      if (isH2) {
        // http2 reads the unshifted bytes itself, then consumes the socket natively.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  };
  // Under TLS, the sniffer reads each connection decrypted.
  const tls = options.security?.tls;
  const tcp = tls ? tlsListener(tls, options.name, sniff) : net.createServer({ noDelay: true }, sniff);
  guardListener(tcp, limits, `${options.name} main port`);

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    // A deep accept queue (the kernel caps it at somaxconn), so a burst of new
    // connections (a peer filling its pool) is not dropped and retried.
    tcp.listen({ port: options.port ?? 0, host, backlog: 65_535 }, () => resolve());
  });
  const port = (tcp.address() as AddressInfo).port;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  let grpcJs: GrpcJsServer | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpcJs = await serveGrpcJs({ host, port: options.grpcPort, services: all, metrics, security: options.security, limits, name: options.name });
    } catch (err) {
      tcp.close();
      throw err;
    }
  }
  const grpcUrl = grpcJs && `${tls ? "grpcs" : "grpc"}://${host.includes(":") ? `[${host}]` : host}:${grpcJs.port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      health.shutdown();
      options.onDrain?.();
      tcp.close();
      for (const session of sessions) session.close(); // GOAWAY: no new streams
      h1.closeIdleConnections();
      const timeout = options.drainTimeoutMs ?? limits.drain_timeout_s * 1000;
      const grpcJsClosed = grpcJs?.close(timeout);
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, timeout).unref();
        });
      }
      await grpcJsClosed;
      for (const socket of sockets) socket.destroy();
      h1.close(); // stops the connection tracking's timer
      log.info("server_closed", { instance: options.name });
    })());

  const localTransport = createLocalTransport(all, metrics);
  return { name: options.name, url, port, grpcUrl, localTransport, health, metrics, close };
}
