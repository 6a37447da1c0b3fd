// Typed clients for calling other instances. One transport per peer address,
// shared by every caller. The address's scheme picks the transport
// (mesh/peer-address.ts): `grpc://host:port` a peer's grpc-js port (the
// cheaper path between the mesh's own services; `grpcs://` with TLS), also
// `dns:///host:port` or a list of endpoints: calls go round-robin over every
// replica the address names, with sticky sessions (mesh/grpc-peer.ts);
// `http(s)://` one server's main port through connect's gRPC transport (one
// HTTP/2 connection, no balancing). With the mesh's security, every call
// carries its bearer token, and TLS peers are trusted by its CA and shown its
// certificate (mTLS).
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { peerAuthorization, type MeshSecurity } from "./auth.js";
import { ConfigError } from "./errors.js";
import { createGrpcPeerTransport } from "./grpc-peer.js";
import { H2_SESSION_MEMORY_MB } from "./http2-limits.js";
import { connectNoDelay, tlsConnector } from "./connectors.js";
import { parsePeerAddress } from "./peer-address.js";
import { traceHeaders } from "./trace-context.js";

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

function newTransport(address: string, security: MeshSecurity | undefined): Transport {
  let peer;
  try {
    peer = parsePeerAddress(address);
  } catch (err) {
    throw new ConfigError(`peer address ${JSON.stringify(address)}: ${(err as Error).message}`);
  }
  if (peer.kind === "grpc") return createGrpcPeerTransport(peer, { security });
  const baseUrl = peer.url;
  const authorization = peerAuthorization(security);
  const withToken: Interceptor = (next) => (req) => {
    req.header.set("authorization", authorization!);
    return next(req);
  };
  const createConnection = baseUrl.startsWith("https://") ? tlsConnector(security?.tls) : connectNoDelay;
  return createGrpcTransport({
    baseUrl,
    interceptors: authorization ? [withToken, traceHeaders] : [traceHeaders],
    nodeOptions: { maxSessionMemory: H2_SESSION_MEMORY_MB, createConnection },
  });
}
