// Typed clients for calling other instances. One gRPC transport (one HTTP/2
// connection, multiplexed) per peer URL, shared by every caller.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { H2_SESSION_MEMORY_MB } from "./serve.js";

const transports = new Map<string, Transport>();

export function transportFor(baseUrl: string): Transport {
  let transport = transports.get(baseUrl);
  if (!transport) {
    transport = createGrpcTransport({ baseUrl, nodeOptions: { maxSessionMemory: H2_SESSION_MEMORY_MB } });
    transports.set(baseUrl, transport);
  }
  return transport;
}

export function clientFor<S extends DescService>(service: S, baseUrl: string): Client<S> {
  return createClient(service, transportFor(baseUrl));
}
