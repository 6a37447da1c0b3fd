// The transport of a GymClient: the URL's scheme picks it, as mesh/clients.ts
// does for the mesh's own calls (`grpc://` the instance's grpc-js port,
// `grpcs://` the same with TLS, `http(s)://` its main port through connect's
// gRPC transport), plus what a
// client from outside needs: a bearer token and other interceptors, TLS with
// a CA and a client certificate (mTLS), a default deadline, and close().
import * as grpc from "@grpc/grpc-js";
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { createContextValues, type ContextValues, type Interceptor, type Transport } from "@connectrpc/connect";
import { runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { connectNoDelay, tlsConnector, type TlsPeer } from "../mesh/connectors.js";
import { createGrpcJsTransport } from "../mesh/grpc-js-transport.js";
import { H2_SESSION_MEMORY_MB } from "../mesh/http2-limits.js";
import { traceHeaders } from "../mesh/trace-context.js";

/** PEM text (a string or its bytes). */
export type Pem = string | Uint8Array;

/** TLS settings for an `https://` or `grpcs://` URL. */
export interface TlsOptions {
  /** CA certificate(s) to trust for the server's certificate instead of the system's roots. */
  ca?: Pem | Pem[];
  /** A client certificate chain and its private key, for mutual TLS. */
  cert?: Pem;
  key?: Pem;
  /** The name to check the server's certificate against (SNI); default the URL's host. */
  serverName?: string;
  /** false accepts any server certificate (tests only). Default true. */
  rejectUnauthorized?: boolean;
}

export interface TransportOptions {
  /** Sent as `authorization: Bearer TOKEN` on every call (in clear text over http:// and grpc://). */
  token?: string;
  /** TLS settings; need an https:// or grpcs:// URL. */
  tls?: TlsOptions;
  /** Default deadline of every call, in milliseconds (a call's own `timeoutMs` wins). None when absent. */
  timeoutMs?: number;
  /** More connect interceptors, run on every call after the token's (the last one is innermost). */
  interceptors?: Interceptor[];
  /**
   * A connection of its own, never shared with other clients of the same
   * address (grpc:// clients share one by default): several clients then
   * reach several workers of a `gym serve --workers N`.
   */
  ownConnection?: boolean;
}

export interface ClientTransport {
  transport: Transport;
  /** The URL as given, for messages. */
  url: string;
  /** Closes the connection (http/https); later calls open a new one. */
  close(): void;
}

/** A URL that is not one of a mesh instance: the message says what is wanted. */
export class BadUrlError extends TypeError {
  constructor(
    readonly url: string,
    why: string,
  ) {
    super(`gym-mesh: bad URL ${JSON.stringify(url)}: ${why}`);
    this.name = "BadUrlError";
  }
}

const WANT = "want http://HOST:PORT or grpc://HOST:PORT (as `gym serve` prints them; https:// and grpcs:// with TLS) or https://HOST[:PORT]";

interface Target {
  scheme: "http" | "https" | "grpc" | "grpcs";
  url: URL;
}

export function parseUrl(raw: string): Target {
  if (typeof raw !== "string" || raw.trim() === "") throw new BadUrlError(String(raw), `no URL: ${WANT}`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new BadUrlError(raw, WANT);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https" && scheme !== "grpc" && scheme !== "grpcs") {
    throw new BadUrlError(raw, `unsupported scheme ${scheme}://; ${WANT}`);
  }
  if (url.hostname === "") throw new BadUrlError(raw, `no host; ${WANT}`);
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new BadUrlError(raw, `want only a scheme, a host and a port (no path, query or user); ${WANT}`);
  }
  if ((scheme === "grpc" || scheme === "grpcs") && url.port === "") throw new BadUrlError(raw, `${scheme}:// needs a port; ${WANT}`);
  return { scheme, url };
}

/** `authorization: Bearer TOKEN` on every call. */
export function bearerToken(token: string): Interceptor {
  const value = `Bearer ${token}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

export function createClientTransport(rawUrl: string, options: TransportOptions = {}): ClientTransport {
  const { scheme, url } = parseUrl(rawUrl);
  if (options.tls && scheme !== "https" && scheme !== "grpcs") throw new BadUrlError(rawUrl, "TLS options need an https:// or grpcs:// URL");
  if (options.token !== undefined && (typeof options.token !== "string" || options.token === "" || /[\r\n]/.test(options.token))) {
    throw new TypeError("gym-mesh: token must be a non-empty string on one line");
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new RangeError("gym-mesh: timeoutMs must be more than 0");
  const interceptors = [...(options.token ? [bearerToken(options.token)] : []), ...(options.interceptors ?? [])];

  if (scheme === "grpc" || scheme === "grpcs") {
    // grpc-js's target is host:port (an IPv6 host keeps its brackets).
    const tls: Partial<ReturnType<typeof grpcJsTls>> = scheme === "grpcs" ? grpcJsTls(options.tls ?? {}) : {};
    const own = options.ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {};
    const base = createGrpcJsTransport(url.host, { ...tls, channelOptions: { ...tls.channelOptions, ...own } });
    return { url: rawUrl, transport: withInterceptors(base, `http://${url.host}`, interceptors, options.timeoutMs), close: () => {} };
  }

  const origin = url.origin;
  const sessionManager = new Http2SessionManager(origin, undefined, {
    maxSessionMemory: H2_SESSION_MEMORY_MB,
    createConnection: scheme === "https" ? tlsConnector(tlsPeer(options.tls ?? {})) : connectNoDelay,
  });
  // The caller's trace context goes with each call (the grpc-js transport adds it itself).
  const transport = createGrpcTransport({ baseUrl: origin, sessionManager, interceptors: [...interceptors, traceHeaders], defaultTimeoutMs: options.timeoutMs });
  return { url: rawUrl, transport, close: () => sessionManager.abort() };
}

/** The caller's TLS options as the mesh's TLS connector takes them. */
function tlsPeer(options: TlsOptions): TlsPeer {
  const asPem = (p: Pem) => (typeof p === "string" ? p : Buffer.from(p));
  return {
    ca: options.ca === undefined ? undefined : (Array.isArray(options.ca) ? options.ca : [options.ca]).map(asPem),
    cert: options.cert === undefined ? undefined : asPem(options.cert),
    key: options.key === undefined ? undefined : asPem(options.key),
    serverName: options.serverName,
    rejectUnauthorized: options.rejectUnauthorized,
  };
}

/** grpc-js's TLS for a grpcs:// URL: the same settings as tlsPeer's. */
function grpcJsTls(options: TlsOptions): { credentials: grpc.ChannelCredentials; channelOptions: grpc.ChannelOptions } {
  const asBuffer = (p: Pem) => Buffer.from(p);
  const ca = options.ca === undefined ? null : Buffer.concat((Array.isArray(options.ca) ? options.ca : [options.ca]).map(asBuffer));
  const credentials = grpc.credentials.createSsl(
    ca,
    options.key === undefined ? null : asBuffer(options.key),
    options.cert === undefined ? null : asBuffer(options.cert),
    options.rejectUnauthorized === false ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
  const channelOptions = options.serverName ? { "grpc.ssl_target_name_override": options.serverName, "grpc.default_authority": options.serverName } : {};
  return { credentials, channelOptions };
}

/**
 * Runs connect interceptors and a default deadline around a transport that
 * has none of its own (the grpc-js one), as connect's own transports do.
 */
function withInterceptors(inner: Transport, baseUrl: string, interceptors: Interceptor[], defaultTimeoutMs: number | undefined): Transport {
  if (interceptors.length === 0 && defaultTimeoutMs === undefined) return inner;
  const urlOf = (method: { parent: { typeName: string }; name: string }) => `${baseUrl}/${method.parent.typeName}/${method.name}`;
  return {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      message: MessageInitShape<I>,
      contextValues?: ContextValues,
    ) {
      const timeout = timeoutMs ?? defaultTimeoutMs;
      return runUnaryCall<I, O>({
        interceptors,
        signal,
        timeoutMs: timeout,
        req: {
          stream: false,
          service: method.parent,
          method,
          requestMethod: "POST",
          url: urlOf(method),
          header: new Headers(header),
          contextValues: contextValues ?? createContextValues(),
          message,
        },
        next: (req) => inner.unary(req.method, req.signal, timeout, req.header, req.message, req.contextValues),
      });
    },
    stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ) {
      const timeout = timeoutMs ?? defaultTimeoutMs;
      return runStreamingCall<I, O>({
        interceptors,
        signal,
        timeoutMs: timeout,
        req: {
          stream: true,
          service: method.parent,
          method,
          requestMethod: "POST",
          url: urlOf(method),
          header: new Headers(header),
          contextValues: contextValues ?? createContextValues(),
          message: input,
        },
        next: (req) => inner.stream(req.method, req.signal, timeout, req.header, req.message, req.contextValues),
      });
    },
  };
}
