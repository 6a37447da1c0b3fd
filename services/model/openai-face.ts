// The OpenAI-compatible HTTP face of a model instance, on the instance's own
// port beside its gRPC service: `POST /v1/responses`, `POST
// /v1/chat/completions` (both with `stream: true`) and `GET /v1/models`, so
// OpenAI-SDK code and NeMo Gym's Python servers can use the mesh as their
// model endpoint. Answers come from the same backend as ModelService's, with
// the same retries and errors; a client that disconnects aborts the upstream
// request.
import type { JsonObject } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { JsonShapeError, paramsFromJson } from "../openai/responses-json.js";
import { log } from "../mesh/log.js";
import { REQUEST_ID_HEADER } from "../mesh/request-id.js";
import type { HttpHandler } from "../mesh/serve.js";
import { isObject, type GenerateOptions, type ModelBackend, type ModelEvent } from "../openai/backend.js";
import { ChatChunkEncoder, chatCompletionFromResponse, paramsFromChatRequest } from "../openai/chat-face.js";
import {
  errorTypeForCode,
  HttpError,
  pathOf,
  readJsonBody,
  sendFailure,
  sendJson,
  startSse,
  whenClientGone,
  writeSse,
  type HttpRequest,
  type HttpResponse,
} from "../mesh/http-io.js";
import { ResponsesSseEncoder } from "../openai/responses-sse.js";

export function openAiFace(backend: ModelBackend): HttpHandler {
  return (req, res) => {
    void route(backend, req, res);
  };
}

async function route(backend: ModelBackend, req: HttpRequest, res: HttpResponse): Promise<void> {
  const path = pathOf(req);
  const started = performance.now();
  const controller = new AbortController();
  whenClientGone(res, () => controller.abort());
  const requestId = headerOf(req, REQUEST_ID_HEADER);
  try {
    if (req.method === "GET" && (path === "/v1/models" || path === `/v1/models/${backend.model}`)) {
      const model = { id: backend.model, object: "model", created: 0, owned_by: backend.name };
      return sendJson(res, 200, path === "/v1/models" ? { object: "list", data: [model] } : model);
    }
    if (req.method !== "POST" || (path !== "/v1/responses" && path !== "/v1/chat/completions")) {
      throw new HttpError(404, `${backend.name}: no route ${req.method} ${path} (this is a model instance: POST /v1/responses, POST /v1/chat/completions, GET /v1/models)`, "not_found_error");
    }
    const type = headerOf(req, "content-type");
    // JSON only (absent is taken as JSON): a form or text body is the wrong API, not a bad request.
    if (type !== undefined && !/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type)) {
      throw new HttpError(415, `${backend.name}: content-type ${type} is not supported: send application/json`);
    }
    const body = await readJsonBody(req);
    if (!isObject(body)) throw new HttpError(400, "request body must be a JSON object");
    const options: GenerateOptions = { signal: controller.signal, requestId };
    if (path === "/v1/responses") await responses(backend, body, options, res);
    else await chatCompletions(backend, body, options, res);
    log.info("http_model_response", { instance: backend.name, path, request_id: requestId, ms: Math.round(performance.now() - started) });
  } catch (err) {
    const e = err instanceof HttpError ? err : ConnectError.from(err);
    log.warn("http_model_error", { instance: backend.name, path, request_id: requestId, message: e instanceof HttpError ? e.message : e.rawMessage });
    sendFailure(res, err);
  }
}

async function responses(backend: ModelBackend, body: JsonObject, options: GenerateOptions, res: HttpResponse): Promise<void> {
  const { stream, stream_options: _, ...params } = body;
  try {
    paramsFromJson(params); // the same shape checks as the gRPC face
  } catch (err) {
    if (err instanceof JsonShapeError) throw new HttpError(400, err.message);
    throw err;
  }
  if (stream !== true) return sendJson(res, 200, await backend.create(params, options));
  const encoder = new ResponsesSseEncoder();
  await streamEvents(backend.stream(params, options), res, {
    write: (event) => encoder.encode(event).forEach((e) => writeSse(res, e, String(e.type))),
    fail: (message, type) => writeSse(res, encoder.error(message, type), "error"),
  });
}

async function chatCompletions(backend: ModelBackend, body: JsonObject, options: GenerateOptions, res: HttpResponse): Promise<void> {
  const params = paramsFromChatRequest(body);
  if (body.stream !== true) return sendJson(res, 200, chatCompletionFromResponse(await backend.create(params, options)));
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  const encoder = new ChatChunkEncoder(includeUsage);
  await streamEvents(backend.stream(params, options), res, {
    write: (event) => encoder.encode(event).forEach((chunk) => writeSse(res, chunk)),
    fail: (message, type) => writeSse(res, { error: { message, type, param: null, code: null } }),
    end: () => writeSse(res, "[DONE]"),
  });
}

/**
 * Streams events as server-sent events. The answer starts with the first
 * event, so a failure before it (a 429 upstream, a bad request) is still a
 * plain HTTP error with the fitting status; one after it is an error event.
 */
async function streamEvents(
  events: AsyncIterable<ModelEvent>,
  res: HttpResponse,
  sink: { write(e: ModelEvent): void; fail(message: string, type: string): void; end?(): void },
): Promise<void> {
  let started = false;
  try {
    for await (const event of events) {
      if (!started) startSse(res);
      started = true;
      sink.write(event);
    }
    sink.end?.();
    res.end();
  } catch (err) {
    if (!started) throw err;
    const e = ConnectError.from(err);
    sink.fail(e.rawMessage, errorTypeForCode(e.code));
    res.end();
  }
}

function headerOf(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
