// grpc-js method definitions for a protobuf-es service: the gRPC path and the
// protobuf-es binary (de)serializers, shared by the grpc-js server and client.
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { H2_SESSION_MEMORY_MB } from "./http2-limits.js";
// Every server and client of the mesh loads this module: strings keep a leading U+FEFF.
import "./text-encoding.js";

export type MethodDefinition = grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>;

const cache = new WeakMap<DescMethod, MethodDefinition>();

export function methodDefinition(method: DescMethod): MethodDefinition {
  let def = cache.get(method);
  if (!def) {
    const streamsIn = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const streamsOut = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
    def = {
      path: `/${method.parent.typeName}/${method.name}`,
      requestStream: streamsIn,
      responseStream: streamsOut,
      requestSerialize: (m) => asBuffer(toBinary(method.input, m)),
      requestDeserialize: (bytes) => fromBinary(method.input, bytes),
      responseSerialize: (m) => asBuffer(toBinary(method.output, m)),
      responseDeserialize: (bytes) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
    cache.set(method, def);
  }
  return def;
}

/** A Buffer view of the bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  return Object.fromEntries(service.methods.map((m) => [m.name, methodDefinition(m)]));
}

/** Channel and server options of the mesh's grpc-js endpoints. */
export const GRPC_JS_OPTIONS = {
  // Rollouts with long conversations exceed grpc's 4 MB default; connect has no such cap either.
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  "grpc-node.max_session_memory": H2_SESSION_MEMORY_MB,
  // Channelz bookkeeping costs CPU on every call; the mesh exports Prometheus metrics instead.
  "grpc.enable_channelz": 0,
} as const;

/** gRPC metadata from fetch-style headers (`-bin` keys carry base64). */
export function metadataFromHeaders(headers: HeadersInit | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (headers) new Headers(headers).forEach((value, key) => metadata.add(key, key.endsWith("-bin") ? Buffer.from(value, "base64") : value));
  return metadata;
}

/** Appends gRPC metadata to `headers` (binary values as base64). */
export function headersFromMetadata(metadata: grpc.Metadata | undefined, headers = new Headers()): Headers {
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    headers.append(key, typeof value === "string" ? value : value.toString("base64"));
  }
  return headers;
}
