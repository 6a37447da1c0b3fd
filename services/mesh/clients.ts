// Typed clients for calling other instances. One transport (one HTTP/2
// connection, multiplexed) per peer URL, shared by every caller. The URL's
// scheme picks the transport: `grpc://host:port` a peer's grpc-js port (the
// cheaper path between the mesh's own services; `grpcs://` with TLS),
// `http(s)://` its main port through connect's gRPC transport. With the
// mesh's security, every call carries its bearer token, and TLS peers are
// trusted by its CA and shown its certificate (mTLS).
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { peerAuthorization, type MeshSecurity } from "./auth.js";
import { createGrpcJsTransport } from "./grpc-js-transport.js";
import { H2_SESSION_MEMORY_MB } from "./http2-limits.js";
import { connectNoDelay, tlsConnector } from "./connectors.js";
import { grpcJsChannelCredentials } from "./tls.js";

const transports = new Map<string, Transport>();
const securedTransports = new WeakMap<MeshSecurity, Map<string, Transport>>();

export function transportFor(baseUrl: string, security?: MeshSecurity): Transport {
  let cache = transports;
  if (security) {
    cache = securedTransports.get(security) ?? new Map();
    securedTransports.set(security, cache);
  }
  let transport = cache.get(baseUrl);
  if (!transport) {
    transport = newTransport(baseUrl, security);
    cache.set(baseUrl, transport);
  }
  return transport;
}

export function clientFor<S extends DescService>(service: S, baseUrl: string, security?: MeshSecurity): Client<S> {
  return createClient(service, transportFor(baseUrl, security));
}

function newTransport(baseUrl: string, security: MeshSecurity | undefined): Transport {
  const authorization = peerAuthorization(security);
  const grpcJs = /^grpcs?:\/\//.exec(baseUrl);
  if (grpcJs) {
    const target = baseUrl.slice(grpcJs[0].length).replace(/\/+$/, "");
    const credentials = baseUrl.startsWith("grpcs://") ? grpcJsChannelCredentials(security?.tls) : undefined;
    return createGrpcJsTransport(target, { credentials, authorization });
  }
  const withToken: Interceptor = (next) => (req) => {
    req.header.set("authorization", authorization!);
    return next(req);
  };
  const createConnection = baseUrl.startsWith("https://") ? tlsConnector(security?.tls) : connectNoDelay;
  return createGrpcTransport({
    baseUrl,
    interceptors: authorization ? [withToken] : [],
    nodeOptions: { maxSessionMemory: H2_SESSION_MEMORY_MB, createConnection },
  });
}
