// Errors in the shapes gRPC and Connect clients expect, where connect-node
// answers otherwise: a method the main port does not serve (UNIMPLEMENTED in
// the caller's protocol, not an HTTP 404 page), a Connect request whose
// protobuf cannot be decoded (invalid_argument, as connect-go says, not
// internal), and Connect JSON nested too deeply (invalid_argument).
import type * as http2 from "node:http2";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import type { HttpRequest, HttpResponse } from "./http-io.js";
import { JsonDepthScanner, tooDeepMessage } from "./json-depth.js";

const GRPC = /^application\/grpc(-web(-text)?)?([+;]|$)/i;
const CONNECT_STREAM = /^application\/connect\+/i;
// `/package.Service/Method`: no NeMo Gym or OpenAI route has this shape.
const RPC_PATH = /^\/[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/**
 * Answers a request for a method this port does not serve, in the caller's
 * protocol: gRPC and gRPC-Web with grpc-status 12 (trailers-only), Connect
 * with its `unimplemented` error. False for any other request (an HTTP route's).
 */
export function answerUnknownRpc(req: HttpRequest, res: HttpResponse, instance: string): boolean {
  const type = String(req.headers["content-type"] ?? "");
  const path = (req.url ?? "/").split("?")[0]!;
  const message = `${instance} does not serve ${path}`;
  if (GRPC.test(type)) {
    const headers = { "content-type": type, "grpc-status": String(Code.Unimplemented), "grpc-message": encodeURIComponent(message) };
    const stream = (res as { stream?: http2.ServerHttp2Stream }).stream;
    // HTTP/2: one HEADERS frame that ends the stream (trailers-only), as gRPC servers answer.
    if (stream && !stream.headersSent) stream.respond({ ":status": 200, ...headers }, { endStream: true });
    else {
      res.writeHead(200, headers);
      res.end();
    }
    return true;
  }
  const error = { code: "unimplemented", message };
  if (CONNECT_STREAM.test(type)) {
    // A Connect stream ends with an end-stream message (flag 2) carrying the error.
    const body = Buffer.from(JSON.stringify({ error }));
    const envelope = Buffer.alloc(5 + body.length);
    envelope[0] = 2;
    envelope.writeUInt32BE(body.length, 1);
    body.copy(envelope, 5);
    res.writeHead(200, { "content-type": type });
    res.end(envelope);
    return true;
  }
  if (RPC_PATH.test(path) && (req.method === "POST" || req.method === "GET")) {
    const body = JSON.stringify(error);
    res.writeHead(404, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
    return true;
  }
  return false;
}

const PARSE_BINARY = "parse binary: ";

function undecodable(err: unknown): unknown {
  if (err instanceof ConnectError && err.code === Code.Internal && err.rawMessage.startsWith(PARSE_BINARY)) {
    return new ConnectError(`the request is not a valid protobuf message: ${err.rawMessage.slice(PARSE_BINARY.length)}`, Code.InvalidArgument);
  }
  return err;
}

/**
 * Connect unary requests: connect-node decodes them before any interceptor.
 * JSON bodies (uncompressed) nested deeper than `maxJsonDepth` are refused
 * with `invalid_argument` as they are read; a decoding failure, which
 * connect-node answers `internal` (HTTP 500), is rewritten to
 * `invalid_argument` (400). Call after every service is on the router.
 */
export function checkConnectRequests(router: ConnectRouter, maxJsonDepth: number): void {
  router.handlers.forEach((handler, i) => {
    const wrapped = async (req: UniversalServerRequest) => {
      if (isPlainJsonBody(req)) req = { ...req, body: depthChecked(req.body as AsyncIterable<Uint8Array>, maxJsonDepth) };
      const res = await handler(req);
      // Only a Connect unary error has status 500 (gRPC answers 200 with a status trailer).
      if (res.status !== 500 || !res.body) return res;
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body) chunks.push(chunk);
      let bytes: Uint8Array = Buffer.concat(chunks);
      let status = res.status;
      const header = new Headers(res.header);
      try {
        const body = JSON.parse(Buffer.from(bytes).toString("utf8")) as { code?: string; message?: string };
        const error = undecodable(new ConnectError(body.message ?? "", body.code === "internal" ? Code.Internal : Code.Unknown));
        if (error instanceof ConnectError && error.code === Code.InvalidArgument) {
          bytes = Buffer.from(JSON.stringify({ code: "invalid_argument", message: error.rawMessage }));
          status = 400;
          header.set("content-length", String(bytes.byteLength));
        }
      } catch {
        // not a Connect error body: pass it on as it was
      }
      return { ...res, status, header, body: createAsyncIterable([bytes]) };
    };
    router.handlers[i] = Object.assign(wrapped, handler) as UniversalHandler;
  });
}

function isPlainJsonBody(req: UniversalServerRequest): boolean {
  const encoding = req.header.get("content-encoding");
  return (
    req.method === "POST" &&
    /^application\/json/i.test(req.header.get("content-type") ?? "") &&
    (!encoding || encoding === "identity") &&
    typeof req.body === "object" &&
    req.body !== null &&
    Symbol.asyncIterator in req.body
  );
}

async function* depthChecked(body: AsyncIterable<Uint8Array>, maxDepth: number): AsyncIterable<Uint8Array> {
  const scanner = new JsonDepthScanner(maxDepth);
  for await (const chunk of body) {
    if (scanner.feed(chunk)) throw new ConnectError(tooDeepMessage("the request", maxDepth), Code.InvalidArgument);
    yield chunk;
  }
}

/** Connect streams: a request message that cannot be decoded is `invalid_argument` too. */
export const connectUndecodable: Interceptor = (next) => (req) => {
  if (!req.stream || !CONNECT_STREAM.test(req.header.get("content-type") ?? "")) return next(req);
  return next({ ...req, message: remapped(req.message) });
};

async function* remapped<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw undecodable(err);
  }
}
