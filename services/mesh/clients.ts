// Typed clients for calling other instances. One transport (one HTTP/2
// connection, multiplexed) per peer URL, shared by every caller. The URL's
// scheme picks the transport: `grpc://host:port` a peer's grpc-js port (the
// cheaper path between the mesh's own services), `http(s)://` its main port
// through connect's gRPC transport.
import * as net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcJsTransport } from "./grpc-js-transport.js";
import { H2_SESSION_MEMORY_MB } from "./http2-limits.js";

const transports = new Map<string, Transport>();

export function transportFor(baseUrl: string): Transport {
  let transport = transports.get(baseUrl);
  if (!transport) {
    transport = baseUrl.startsWith("grpc://")
      ? createGrpcJsTransport(baseUrl.slice("grpc://".length).replace(/\/+$/, ""))
      : createGrpcTransport({ baseUrl, nodeOptions: { maxSessionMemory: H2_SESSION_MEMORY_MB, createConnection: connectNoDelay } });
    transports.set(baseUrl, transport);
  }
  return transport;
}

export function clientFor<S extends DescService>(service: S, baseUrl: string): Client<S> {
  return createClient(service, transportFor(baseUrl));
}

/** A TCP connection with Nagle off: small gRPC frames must not wait for the peer's delayed ACK. */
function connectNoDelay(authority: URL): net.Socket {
  const host = authority.hostname.replace(/^\[(.*)\]$/, "$1");
  return net.connect({ host, port: Number(authority.port || 80), noDelay: true });
}
