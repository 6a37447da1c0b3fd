// Plain HTTP plumbing shared by the OpenAI-compatible servers (the HTTP face
// of a model instance, the mock model): bounded JSON bodies, JSON and
// server-sent-event answers, OpenAI-style errors, and gRPC codes as statuses.
import type { JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { jsonTooDeep, tooDeepMessage } from "./json-depth.js";
import { DEFAULT_LIMITS, type Limits } from "./kind.js";
import type { HttpHandler } from "./serve.js";

export type HttpRequest = Parameters<HttpHandler>[0];
export type HttpResponse = Parameters<HttpHandler>[1];

// The limits of the instance a request came to: serve() records them for its HTTP routes.
const requestLimits = new WeakMap<HttpRequest, Limits>();

export function setRequestLimits(req: HttpRequest, limits: Limits): void {
  requestLimits.set(req, limits);
}

/** The `limits:` of the instance serving the request (the defaults outside serve()). */
export function limitsOf(req: HttpRequest): Limits {
  return requestLimits.get(req) ?? DEFAULT_LIMITS;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = "invalid_request_error",
  ) {
    super(message);
  }
}

/** JSON nested deeper than limits.max_json_depth (400, never a NeMo Gym 422). */
export class JsonDepthError extends HttpError {}

/**
 * The JSON body: one larger than limits.max_message_bytes (or `limit`) is
 * refused (413), one nested deeper than limits.max_json_depth too (400).
 */
export async function readJsonBody(req: HttpRequest, limit = limitsOf(req).max_message_bytes): Promise<JsonValue> {
  const tooLarge = () => new HttpError(413, `request body larger than ${limit} bytes (limits.max_message_bytes)`);
  if (Number(req.headers["content-length"]) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const maxDepth = limitsOf(req).max_json_depth;
  if (jsonTooDeep(text, maxDepth)) throw new JsonDepthError(400, tooDeepMessage("the request body", maxDepth));
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: HttpResponse, status: number, body: JsonValue, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(data)), ...headers });
  res.end(data);
}

/** An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. */
export function sendError(res: HttpResponse, status: number, message: string, type: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type, param: null, code: null } }, headers);
}

/** Any failure as an OpenAI-style error answer, with the HTTP status its gRPC code stands for. */
export function sendFailure(res: HttpResponse, err: unknown): void {
  if (err instanceof HttpError) return sendError(res, err.status, err.message, err.type);
  const e = ConnectError.from(err);
  sendError(res, statusForCode(e.code), e.rawMessage, errorTypeForCode(e.code));
}

/** Starts a server-sent-events answer. */
export function startSse(res: HttpResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
}

/** One event: `event:` line when named, then the JSON (or a literal like [DONE]) as `data:`. */
export function writeSse(res: HttpResponse, data: JsonValue | string, event?: string): void {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  (res as { write(chunk: string): boolean }).write(`${event ? `event: ${event}\n` : ""}data: ${payload}\n\n`);
}

/** Calls `onGone` if the client goes away before the answer is finished. */
export function whenClientGone(res: HttpResponse, onGone: () => void): void {
  res.once("close", () => {
    // A close after end() is the normal finish; before it, the client left.
    if (!res.writableEnded) onGone();
  });
}

export function statusForCode(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.ResourceExhausted:
      return 429;
    case Code.Canceled:
      return 499;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

export function errorTypeForCode(code: Code): string {
  switch (code) {
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return "invalid_request_error";
    case Code.Unauthenticated:
      return "authentication_error";
    case Code.PermissionDenied:
      return "permission_error";
    case Code.NotFound:
      return "not_found_error";
    case Code.ResourceExhausted:
      return "rate_limit_error";
    default:
      return "server_error";
  }
}

/** The path of a request URL without its query. */
export function pathOf(req: HttpRequest): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
