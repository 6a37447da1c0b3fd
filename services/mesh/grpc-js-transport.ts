// A connect Transport over a grpc-js channel: the typed connect clients keep
// their API (createClient, call options, ConnectError codes) while the calls
// go out through grpc-js, the cheapest gRPC client here. One channel per
// peer, multiplexed: one HTTP/2 connection per address it resolves to (the
// mesh's peers spread calls over several: mesh/grpc-peer.ts). A unary
// call's answer records which address served it (peerOf), for sticky
// sessions (mesh/sticky-sessions.ts).
import * as grpc from "@grpc/grpc-js";
import { create, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { GRPC_JS_OPTIONS, headersFromMetadata, metadataFromHeaders, methodDefinition } from "./grpc-js-definitions.js";
import { injectIntoMetadata } from "./trace-context.js";

type Message = MessageShape<DescMessage>;
type StreamingCall = grpc.ClientReadableStream<Message> | grpc.ClientDuplexStream<Message, Message>;

const CHANNEL_OPTIONS = {
  ...GRPC_JS_OPTIONS,
  // A restarted peer (a rolling deploy) is back within a second or two: do not back off for minutes.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
  // The mesh bounds its own retries (model calls); grpc-js's would also keep a copy of every request in flight.
  "grpc.enable_retries": 0,
};

export interface GrpcJsTransportOptions {
  /** TLS (grpcs://); clear text when absent. */
  credentials?: grpc.ChannelCredentials;
  /** More channel options (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: grpc.ChannelOptions;
  /** Sent as the `authorization` metadata of every call (the mesh's bearer token). */
  authorization?: string;
  /**
   * false: a call fails with UNAVAILABLE as soon as the channel cannot
   * connect (it is not wait-for-ready), deadline or not, instead of waiting
   * for a connection until its deadline: the calls of a session pinned to one
   * replica, which must not wait for a replica that is gone. Default true:
   * calls with a deadline wait for ready (see callMetadata).
   */
  waitForReady?: boolean;
}

/** A Transport over one grpc-js channel; close() shuts the channel (calls still waiting for a connection fail, calls under way finish). */
export interface GrpcJsTransport extends Transport {
  close(): void;
}

/** The server address (`ip:port`, `[ipv6]:port`) that answered a unary call of a grpc-js transport. */
const answeredBy = new WeakMap<object, string>();

/** Which address served this unary response, when it came through a grpc-js transport. */
export function peerOf(response: object): string | undefined {
  return answeredBy.get(response);
}

/** `target` is grpc-js's: `host:port`, `dns:host:port`, `ipv4:ip:port,...` or a registered resolver's scheme. */
export function createGrpcJsTransport(target: string, options: GrpcJsTransportOptions = {}): GrpcJsTransport {
  const client = new grpc.Client(target, options.credentials ?? grpc.credentials.createInsecure(), { ...CHANNEL_OPTIONS, ...options.channelOptions });
  const { authorization } = options;
  const waitForReady = options.waitForReady ?? true;

  return {
    close: () => client.close(),

    unary(method, signal, timeoutMs, header, input) {
      const def = methodDefinition(method);
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(abortError(signal));
        const onAbort = () => call.cancel();
        const received: Received = {};
        const call = client.makeUnaryRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          create(method.input, input),
          callMetadata(header, timeoutMs, authorization, waitForReady),
          callOptions(timeoutMs),
          (err, message) => {
            signal?.removeEventListener("abort", onAbort);
            if (err) return reject(errorOf(err, signal));
            const response = withHeaders({ stream: false as const, service: method.parent, method, message: message as never }, received);
            answeredBy.set(response, call.getPeer());
            resolve(response);
          },
        );
        signal?.addEventListener("abort", onAbort, { once: true });
        listen(call, received);
      });
    },

    async stream(method, signal, timeoutMs, header, input) {
      if (signal?.aborted) throw abortError(signal);
      const def = methodDefinition(method);
      const metadata = callMetadata(header, timeoutMs, authorization, waitForReady);
      const options = callOptions(timeoutMs);
      let call: StreamingCall;
      let single: Promise<Message> | undefined;
      switch (method.methodKind) {
        case "server_streaming":
          call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, create(method.input, await onlyMessage(input)), metadata, options);
          break;
        case "client_streaming": {
          let settle!: (err: grpc.ServiceError | null, message?: Message) => void;
          single = new Promise<Message>((resolve, reject) => (settle = (err, message) => (err ? reject(err) : resolve(message!))));
          const writable = client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadata, options, settle);
          call = writable as unknown as StreamingCall;
          void pump(input, writable, method.input);
          break;
        }
        case "bidi_streaming": {
          const duplex = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadata, options);
          call = duplex;
          void pump(input, duplex, method.input);
          break;
        }
      }
      const received: Received = {};
      listen(call, received);
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });

      async function* read(): AsyncGenerator<Message> {
        let complete = false;
        try {
          if (single) yield await single;
          else for await (const message of call as AsyncIterable<Message>) yield message;
          complete = true;
        } catch (err) {
          throw errorOf(err, signal);
        } finally {
          signal?.removeEventListener("abort", onAbort);
          // The caller stopped reading early: cancel the call, as connect does.
          if (!complete) call.cancel();
        }
      }
      return withHeaders({ stream: true as const, service: method.parent, method, message: read() as never }, received);
    },
  };
}

/** Response metadata as it arrives, turned into Headers only if someone reads them (rarely). */
interface Received {
  header?: grpc.Metadata;
  trailer?: grpc.Metadata;
}

function listen(call: grpc.Call, received: Received): void {
  call.on("metadata", (md: grpc.Metadata) => (received.header = md));
  call.on("status", (status: grpc.StatusObject) => (received.trailer = status.metadata));
}

/** The response with its header and trailer (an object literal's getters: far cheaper per call than defineProperties). */
function withHeaders<T extends { stream: boolean; service: DescService; method: DescMethod; message: unknown }>(
  response: T,
  received: Received,
): T & { readonly header: Headers; readonly trailer: Headers } {
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  return {
    stream: response.stream,
    service: response.service,
    method: response.method,
    message: response.message,
    get header(): Headers {
      return (header ??= headersFromMetadata(received.header));
    },
    get trailer(): Headers {
      return (trailer ??= headersFromMetadata(received.trailer));
    },
  } as T & { readonly header: Headers; readonly trailer: Headers };
}

/** Writes the caller's messages, waiting when the peer reads slowly; half-closes at the end. */
async function pump(input: AsyncIterable<unknown>, call: grpc.ClientWritableStream<Message>, schema: DescMessage): Promise<void> {
  let over = false;
  const stop = () => (over = true);
  call.once("status", stop);
  call.once("error", stop);
  try {
    for await (const message of input) {
      if (over) return;
      if (!call.write(create(schema, message as never))) {
        await new Promise<void>((resolve) => {
          const go = () => {
            call.off("drain", go);
            call.off("status", go);
            resolve();
          };
          call.once("drain", go);
          call.once("status", go);
        });
      }
    }
    if (!over) call.end();
  } catch {
    // The caller's request stream failed: the call cannot go on.
    (call as unknown as grpc.ClientDuplexStream<Message, Message>).cancel();
  }
}

async function onlyMessage(input: AsyncIterable<unknown>): Promise<never> {
  for await (const message of input) return message as never;
  throw new ConnectError("a server-streaming call needs its request message", Code.Internal);
}

/**
 * The call's metadata (with the active trace context). A call with a deadline waits for a ready connection
 * until then (gRPC wait-for-ready) instead of failing at once: a peer that is
 * restarting (a rolling deploy) is waited for, not reported UNAVAILABLE. A
 * call without one fails fast rather than wait forever, and so does every
 * call of a transport made with `waitForReady: false`.
 */
function callMetadata(header: HeadersInit | undefined, timeoutMs: number | undefined, authorization: string | undefined, waitForReady: boolean): grpc.Metadata {
  const metadata = metadataFromHeaders(header);
  if (authorization) metadata.set("authorization", authorization);
  injectIntoMetadata(metadata);
  if (waitForReady && timeoutMs !== undefined && timeoutMs > 0) metadata.setOptions({ waitForReady: true });
  return metadata;
}

function callOptions(timeoutMs: number | undefined): grpc.CallOptions {
  return timeoutMs !== undefined && timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
}

function abortError(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason, Code.Canceled);
}

function errorOf(err: unknown, signal: AbortSignal | undefined): ConnectError {
  // Cancelled by the caller's signal: report the signal's reason (a deadline of its own, a cancel), as connect does.
  if (signal?.aborted) return abortError(signal);
  const status = err as Partial<grpc.ServiceError>;
  if (typeof status.code === "number") {
    return new ConnectError(status.details ?? status.message ?? "", status.code as number as Code, headersFromMetadata(status.metadata));
  }
  return ConnectError.from(err);
}
